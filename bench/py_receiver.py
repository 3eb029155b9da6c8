"""The common way to write this receiver in Python, for `make bench`:
FastAPI + SQLAlchemy under uvicorn, the same HMAC check over the raw body
and one INSERT of the raw body into a SQLite WAL journal (synchronous as
WA_SYNCHRONOUS), answering 200 after COMMIT."""
import hashlib
import hmac
import os

from fastapi import FastAPI, Request, Response
from sqlalchemy import Column, Integer, LargeBinary, create_engine, event
from sqlalchemy.orm import declarative_base, sessionmaker

SECRET = os.environ["WHATSAPP_APP_SECRET"].encode()
engine = create_engine("sqlite:///" + os.environ["PY_DB"],
                       connect_args={"timeout": 5, "check_same_thread": False})


@event.listens_for(engine, "connect")
def _pragmas(conn, _):
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=" + os.environ.get("WA_SYNCHRONOUS", "FULL"))


Base = declarative_base()


class Event(Base):
    __tablename__ = "webhook_events"
    id = Column(Integer, primary_key=True)
    body = Column(LargeBinary, nullable=False)


Base.metadata.create_all(engine)
Session = sessionmaker(bind=engine)
app = FastAPI()


@app.post("/py/webhook")
async def webhook(request: Request):
    body = await request.body()
    sig = request.headers.get("x-hub-signature-256", "")
    want = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig.lower(), want):
        return Response(status_code=403)
    with Session() as s:
        s.add(Event(body=body))
        s.commit()
    return Response(content=b"{}", media_type="application/json")
