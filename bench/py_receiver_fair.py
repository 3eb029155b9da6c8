"""The Python receiver in the shape FastAPI's own docs recommend, for
`make bench` (py_receiver.py is the common shape, kept for comparison):
a plain `def` endpoint, so the blocking SQLAlchemy calls run in Starlette's
thread pool instead of stalling the event loop; the raw body is read by an
async dependency (a sync endpoint cannot await it); a connection pool so a
request does not open the database (SQLAlchemy 1.4 gives file databases a
NullPool); run by bench.py with as many uvicorn workers as cores, uvloop
and httptools when installed.  Same work as ours: HMAC over the raw body,
one INSERT of the raw body into a SQLite WAL journal with synchronous as
WA_SYNCHRONOUS, 200 after COMMIT."""
import hashlib
import hmac
import os

from fastapi import Depends, FastAPI, Header, Request, Response
from sqlalchemy import Column, Integer, LargeBinary, create_engine, event
from sqlalchemy.orm import declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool

SECRET = os.environ["WHATSAPP_APP_SECRET"].encode()
# Starlette's thread pool runs at most 40 endpoints at once: never wait
# for a pooled connection.
engine = create_engine("sqlite:///" + os.environ["PY_DB"], poolclass=QueuePool,
                       pool_size=16, max_overflow=32,
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


async def raw_body(request: Request) -> bytes:
    return await request.body()


@app.post("/pyfair/webhook")
def webhook(body: bytes = Depends(raw_body), x_hub_signature_256: str = Header("")):
    want = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(x_hub_signature_256.lower(), want):
        return Response(status_code=403)
    with Session() as s:
        s.add(Event(body=body))
        s.commit()
    return Response(content=b"{}", media_type="application/json")
