"""The inbox shows a person their open alerts (issue 16): a badge in the
header with the count, a list of the summaries, and Resolve, which the
API then shows resolved.  Built under the page's strict CSP: no console
error."""
import time

from browser import By
from stack import wait_until
from inbox_fixtures import add_user, browser, conversation_id, inbox_stack, post_message, sign_in


def test_the_header_shows_open_alerts_and_resolves_one(tmp_path):
    s = inbox_stack(extra_env={"WA_ALERT_WAIT_MIN": "1",
                               "WA_BACKUP_DIR": str(tmp_path / "no-backups")})
    b = None
    try:
        pw = add_user(s, "ann", "agent")
        post_message(s, {"type": "text", "text": {"body": "hello?"}}, wa_id="15550002222",
                     ts=int(time.time()) - 120)
        cid = conversation_id(s, "15550002222")
        with s.db() as c:
            c.execute("UPDATE conversations SET assignee = 'person:ann' WHERE id = ?", (cid,))
        (row,) = wait_until(lambda: s.q("SELECT id, summary FROM alerts"), 60, "the alert")
        b = browser(s)
        sign_in(b, "ann", pw)
        badge = b.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "#alerts .badge"), 10)[0]
        assert badge.text == "1"
        b.d.find_element(By.CSS_SELECTOR, "#alerts summary").click()
        item = b.wait(lambda d: d.find_element(
            By.CSS_SELECTOR, '#alerts li[data-alert-id="%d"]' % row["id"]))
        assert item.find_element(By.CSS_SELECTOR, ".alert-summary").text == row["summary"]
        item.find_element(By.CSS_SELECTOR, "button.alert-resolve").click()
        b.wait(lambda d: d.find_element(By.ID, "alerts").get_attribute("data-count") == "0", 10)
        assert b.d.find_elements(By.CSS_SELECTOR, "#alerts .badge") == []
        assert s.q("SELECT state FROM alerts") == [{"state": "resolved"}]
        assert b.console_errors() == []
    finally:
        if b is not None:
            b.quit()
        s.close()
