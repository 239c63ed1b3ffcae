"""The request form, the e-mail confirmation, the status page, review, counter-notice,
restore, the audit trail and the transparency page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from kuaizhao.takedown import actions
from kuaizhao.takedown.models import Event, Request
from tests.takedown.conftest import IMG, TARGET, TITLE

pytestmark = pytest.mark.django_db

GOOD = {
    "requester": "某某出版社",
    "email": "legal@example.com",
    "scope": "urls",
    "urls": TARGET,
    "reason": "copyright",
    "explanation": "本社作品，未经授权转载。",
    "proof": "著作权登记证书编号 2024-001",
}


def post(client: Client, path: str, data: dict[str, Any], **extra: Any) -> Any:
    return client.post(path, data, **extra)


def errors(response: Any) -> str:
    return " ".join(re.findall(r'class="error" role="alert">([^<]*)<', response.content.decode()))


def test_the_form_is_linked_from_every_snapshot_page(client: Client, archive):
    html = client.get(f"/s/{archive[TARGET].id}").content.decode()
    link = re.search(r'href="(/takedown\?url=[^"]+)"', html)
    assert link, "the snapshot page links to the form with its URL"
    form = client.get(link.group(1).replace("&amp;", "&"))
    assert form.status_code == 200 and "csrfmiddlewaretoken" in form.content.decode()
    assert f"{TARGET}</textarea>" in form.content.decode()


def test_a_request_from_form_to_approval(client: Client, archive):
    response = post(client, "/takedown", GOOD)
    assert response.status_code == 302
    filed = Request.objects.get()
    assert re.fullmatch(rf"KZ-\d{{4}}-{filed.pk:05d}", filed.number)
    assert response["Location"] == f"/takedown/status/{filed.secret}"
    assert filed.status == "unconfirmed"
    (message,) = mail.outbox
    assert message.to == ["legal@example.com"] and filed.number in message.subject
    confirm = re.search(r"http://testserver(/takedown/confirm/\S+)", message.body)
    assert confirm and f"/takedown/status/{filed.secret}" in message.body
    page = client.get(confirm.group(1))
    assert page.status_code == 200 and "确认邮箱" in page.content.decode()
    assert Request.objects.get().status == "unconfirmed"  # a GET (a mail scanner) changes nothing
    assert client.post(confirm.group(1)).status_code == 302
    filed.refresh_from_db()
    assert filed.status == "pending" and filed.email_confirmed_at is not None
    status = client.get(f"/takedown/status/{filed.secret}").content.decode()
    assert "待审核" in status and filed.number in status and "邮箱已确认" in status
    assert client.get("/takedown/status/not-the-secret").status_code == 404

    staff = Client()
    assert staff.get("/takedown/review/").status_code == 302  # to the login page
    User.objects.create_user("reader", password="pw")
    staff.login(username="reader", password="pw")
    assert staff.get(f"/takedown/review/{filed.pk}").status_code == 302  # staff only
    assert staff.post(f"/takedown/review/{filed.pk}", {"action": "reject"}).status_code == 302
    assert Request.objects.get().status == "pending"
    User.objects.create_user("reviewer", password="pw", is_staff=True)
    staff.login(username="reviewer", password="pw")
    queue = staff.get("/takedown/review/").content.decode()
    assert filed.number in queue
    review = f"/takedown/review/{filed.pk}"
    assert post(staff, review, {"action": "ask", "note": "请提供登记证书扫描件"}).status_code == 302
    assert "需要补充材料" in mail.outbox[-1].subject
    status_page = f"/takedown/status/{filed.secret}"
    assert "请提供登记证书扫描件" in client.get(status_page).content.decode()
    too_long = post(client, status_page, {"text": "x" * 10_001})
    assert too_long.status_code == 400 and "最多 10000 字" in errors(too_long)
    assert post(client, status_page, {"text": "扫描件见附件链接"}).status_code == 302
    assert Request.objects.get().status == "pending"
    late = post(client, status_page, {"text": "再补充一点"})
    assert late.status_code == 409 and "不需要补充材料" in errors(late)
    approved = post(staff, review, {"action": "approve", "verb": "exclude", "note": "证明充分"})
    assert approved.status_code == 302
    assert client.get(f"/s/{archive[TARGET].id}").status_code == 404
    assert client.get("/img", {"url": IMG}).status_code == 404  # its picture went with it
    assert "已批准" in mail.outbox[-1].subject
    again = post(staff, review, {"action": "approve", "verb": "block"})
    assert again.status_code == 400 and "已批准" in again.content.decode()

    counter = f"/takedown/counter/{filed.number}"
    assert client.get(counter).status_code == 200
    found = client.get("/takedown/counter", {"number": filed.number.lower()})
    assert found.status_code == 302 and found["Location"] == counter
    assert client.get("/takedown/counter", {"number": "KZ-1999-1"}).status_code == 404
    assert "takedown/counter" in client.get("/takedown/transparency").content.decode()
    bad = post(client, counter, {"name": "测试日报", "email": "x", "text": "<b>原创</b>"})
    assert bad.status_code == 400
    assert "有效的邮箱" in errors(bad) and "HTML" in errors(bad)
    note = {"name": "测试日报", "email": "desk@news.test.example", "text": "本文为本报原创。"}
    assert post(client, counter, note).status_code == 200
    # Whoever holds the number may dispute: a first notice never shuts out a second.
    other = {"name": "测试日报法务部", "email": "legal@news.test.example", "text": "另附授权书。"}
    assert post(client, counter, other).status_code == 200
    page = staff.get(review).content.decode()
    assert "本文为本报原创。" in page and "另附授权书。" in page
    assert filed.number in staff.get("/takedown/review/").content.decode()
    assert post(staff, review, {"action": "restore", "note": "出版社授权已确认"}).status_code == 302
    assert client.get(f"/s/{archive[TARGET].id}").status_code == 200
    assert client.get("/img", {"url": IMG}).status_code == 200

    trail = list(Event.objects.filter(request=filed).values_list("actor", "action"))
    assert [a for _, a in trail if a.startswith("request.")] == [
        "request.file",
        "request.confirm",
        "request.ask",
        "request.reply",
        "request.approve",
        "request.counter",
        "request.counter",
        "request.restore",
    ]
    assert ("reviewer", "request.approve") in trail
    assert {a for _, a in trail} >= {"rule.apply", "rule.revoke"}
    assert all(e.at and e.detail for e in Event.objects.filter(action="request.approve"))


def test_the_confirmation_goes_through_a_real_smtp_server(client: Client, db, smtp):
    assert post(client, "/takedown", GOOD).status_code == 302
    (message,) = smtp.messages
    filed = Request.objects.get()
    assert message["To"] == "legal@example.com" and filed.number in str(message["Subject"])
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    link = re.search(r"http://testserver(/takedown/confirm/\S+)", str(body.get_content()))
    assert link
    assert client.post(link.group(1)).status_code == 302
    assert Request.objects.get().status == "pending"


def test_rejection_names_the_reason(client: Client, archive):
    filed = actions.file_request(**{**GOOD, "urls": [TARGET]}, client="c")
    actions.confirm_email(filed)
    with pytest.raises(actions.ActionError):
        actions.reject(filed, actor="staff", why=" ")
    actions.reject(filed, actor="staff", why="转载已获授权，不属于侵权")
    html = client.get(f"/takedown/status/{filed.secret}").content.decode()
    assert "已驳回" in html and "转载已获授权" in html
    assert client.get(f"/s/{archive[TARGET].id}").status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"requester": ""}, "请填写权利人姓名或名称"),
        ({"email": ""}, "请填写联系邮箱"),
        ({"email": "not-an-address"}, "这不是有效的邮箱地址"),
        ({"urls": ""}, "请填写网址"),
        ({"urls": "not a url"}, "网址应以 http:// 或 https:// 开头"),
        ({"urls": "http://[::1/x"}, "这不是有效的网址"),
        ({"urls": "ftp://example.com/a"}, "网址应以 http:// 或 https:// 开头"),
        ({"urls": "http://e.com/" + "a" * 2000}, "网址过长"),
        ({"urls": "\n".join(f"http://e.com/{i}" for i in range(101))}, "一次最多 100 个网址"),
        ({"scope": "prefix", "urls": "http://e.com/a\nhttp://e.com/b"}, "请只填写一个前缀"),
        ({"reason": "because"}, "请选择理由"),
        ({"reason": ""}, "请选择理由"),
        ({"explanation": ""}, "请填写说明"),
        ({"proof": ""}, "请填写权属或身份证明"),
        ({"explanation": "x" * 1_000_000}, "说明最多 10000 字（现有 1000000 字）"),
        ({"explanation": "理" * 350_000}, "说明最多 10000 字（现有 350000 字）"),
        ({"requester": "<script>alert(1)</script>"}, "不要包含 HTML 标签或脚本"),
        ({"proof": "见 <img src=x onerror=alert(1)>"}, "不要包含 HTML 标签或脚本"),
        ({"urls": "javascript:alert(1)"}, "不要包含 HTML 标签或脚本"),
        ({"urls": "http://e.com/<script>"}, "不要包含 HTML 标签或脚本"),
        ({"explanation": "bad\x01byte"}, "含有无效的控制字符"),
    ],
)
def test_bad_input_gets_a_clear_error_and_keeps_the_rest(
    client: Client, db, change: dict[str, str], message: str
):
    response = post(client, "/takedown", {**GOOD, **change})
    assert response.status_code == 400
    assert message in errors(response), errors(response)
    html = response.content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    if "requester" not in change:
        assert 'value="某某出版社"' in html  # what was typed is kept
    assert not Request.objects.exists() and not mail.outbox


def test_a_body_too_large_to_read_is_refused_clearly(db):
    strict = Client(enforce_csrf_checks=True)
    page = strict.get("/takedown").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    data = {**GOOD, "explanation": "理" * 1_000_000, "csrfmiddlewaretoken": token.group(1)}
    response = strict.post("/takedown", data)
    assert response.status_code == 413
    assert "提交的内容过大" in errors(response)
    assert not Request.objects.exists()


def test_the_form_needs_its_csrf_token(db):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/takedown", GOOD).status_code == 403
    page = strict.get("/takedown").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    assert (
        strict.post("/takedown", {**GOOD, "csrfmiddlewaretoken": token.group(1)}).status_code == 302
    )


def test_one_address_cannot_flood_the_queue(client: Client, db):
    for _ in range(5):
        assert post(client, "/takedown", GOOD).status_code == 302
    limited = post(client, "/takedown", GOOD)
    assert limited.status_code == 429 and "一小时后再试" in limited.content.decode()
    assert int(limited["Retry-After"]) > 0
    other = post(client, "/takedown", GOOD, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302
    assert Request.objects.count() == 6
    assert "192.0.2.7" not in str(Request.objects.values_list("client", flat=True))


def test_the_transparency_page_counts_without_personal_data(client: Client, archive):
    for reason in ("copyright", "privacy", "privacy"):
        filed = actions.file_request(**{**GOOD, "reason": reason, "urls": [TARGET]}, client="c")
        actions.confirm_email(filed)
    first, second, _ = Request.objects.order_by("id")
    actions.approve(first, actor="staff", verb="block")
    actions.reject(second, actor="staff", why="证明不足")
    actions.file_request(**{**GOOD, "urls": [TARGET]}, client="c")  # unconfirmed: not counted
    html = client.get("/takedown/transparency").content.decode()
    assert client.get("/takedown/transparency").status_code == 200
    rows = re.findall(r"<tr><td>(\d{4}-\d{2})</td><td>(\w+)</td>((?:<td>\d+</td>)+)</tr>", html)
    table = {reason: re.findall(r"\d+", cells) for _, reason, cells in rows}
    assert table == {"著作权": ["1", "1", "0", "0"], "隐私": ["2", "0", "1", "0"]}
    for private in ("某某出版社", "legal@example.com", TARGET, TITLE, first.number):
        assert private not in html


def test_a_blocked_page_names_the_request_and_offers_a_counter_notice(client: Client, archive):
    filed = actions.file_request(**{**GOOD, "urls": [TARGET]}, client="c")
    actions.confirm_email(filed)
    actions.approve(filed, actor="staff", verb="block")
    response = client.get(f"/s/{archive[TARGET].id}")
    assert response.status_code == 451
    assert filed.number in response.content.decode()
    api = client.get(f"/api/articles/{archive[TARGET].id}")
    assert api.status_code == 451 and api.json()["request_number"] == filed.number


def test_counter_notices_are_bounded_with_a_clear_answer(client: Client, archive):
    filed = actions.file_request(**{**GOOD, "urls": [TARGET]}, client="c")
    actions.confirm_email(filed)
    actions.approve(filed, actor="staff", verb="block")
    for n in range(actions.MAX_COUNTER_NOTICES):
        actions.counter_notice(filed, name=f"出版方{n}", email="desk@example.com", text="异议")
    note = {"name": "又一家", "email": "more@example.com", "text": "再提异议。"}
    late = client.post(f"/takedown/counter/{filed.number}", note)
    assert late.status_code == 429 and "份异议" in late.content.decode()
    assert filed.counter_notices.count() == actions.MAX_COUNTER_NOTICES
