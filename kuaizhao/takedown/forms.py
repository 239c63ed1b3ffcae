"""The public forms: a takedown request, more information for it, and a counter-notice.

Every field is plain text: markup is refused with a message rather than stored, and lengths
are bounded so a request can be read in full by the people who review it.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from kuaizhao.lib.surt import BadUrl, surt
from kuaizhao.takedown.models import REASONS

MAX_URLS = 100
MAX_URL = 2000
MAX_TEXT = 10_000
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!?]|javascript\s*:", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain(value: str) -> str:
    if _CONTROL.search(value):
        raise forms.ValidationError("含有无效的控制字符")
    if _MARKUP.search(value):
        raise forms.ValidationError("请只填写纯文本，不要包含 HTML 标签或脚本")
    return value.strip()


def _text(label: str, max_length: int = MAX_TEXT, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": f"请填写{label}",
            "max_length": f"{label}最多 {max_length} 字（现有 %(show_value)d 字）",
        },
        **kwargs,
    )


class PlainTextForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, value in list(cleaned.items()):
            if isinstance(value, str):
                try:
                    cleaned[name] = plain(value)
                except forms.ValidationError as exc:
                    self.add_error(name, exc)
        return cleaned


class RequestForm(PlainTextForm):
    requester = forms.CharField(
        label="权利人姓名或名称",
        max_length=200,
        error_messages={"required": "请填写权利人姓名或名称", "max_length": "姓名最多 200 字"},
    )
    email = forms.EmailField(
        label="联系邮箱",
        max_length=254,
        error_messages={"required": "请填写联系邮箱", "invalid": "这不是有效的邮箱地址"},
    )
    scope = forms.ChoiceField(
        label="范围",
        choices=[("urls", "下列网址"), ("prefix", "以下列网址开头的所有网页（网址前缀）")],
        initial="urls",
        widget=forms.RadioSelect,
        error_messages={"required": "请选择范围", "invalid_choice": "请选择范围"},
    )
    urls = _text("网址", max_length=MAX_URLS * (MAX_URL + 1))
    reason = forms.ChoiceField(
        label="理由",
        choices=REASONS,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择理由", "invalid_choice": "请选择理由"},
    )
    explanation = _text("说明")
    proof = _text("权属或身份证明")

    def clean_urls(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["urls"].splitlines() if line.strip()]
        if not lines:
            raise forms.ValidationError("请填写至少一个网址")
        if len(lines) > MAX_URLS:
            raise forms.ValidationError(f"一次最多 {MAX_URLS} 个网址，请分开提交")
        kept: list[str] = []
        for line in lines:
            if len(line) > MAX_URL:
                raise forms.ValidationError(f"网址过长（最多 {MAX_URL} 个字符）：{line[:60]}…")
            plain(line)
            if not re.match(r"^https?://", line, re.IGNORECASE):
                raise forms.ValidationError(f"网址应以 http:// 或 https:// 开头：{line}")
            try:
                surt(line)
            except BadUrl:
                raise forms.ValidationError(f"这不是有效的网址：{line}") from None
            kept.append(line)
        return kept

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        urls = cleaned.get("urls")
        if cleaned.get("scope") == "prefix" and isinstance(urls, list) and len(urls) > 1:
            self.add_error("urls", "按网址前缀删除时，请只填写一个前缀")
        return cleaned


class InformationForm(PlainTextForm):
    text = _text("补充材料")


class CounterNoticeForm(PlainTextForm):
    name = forms.CharField(
        label="发布者名称",
        max_length=200,
        error_messages={"required": "请填写发布者名称", "max_length": "名称最多 200 字"},
    )
    email = forms.EmailField(
        label="联系邮箱",
        max_length=254,
        error_messages={"required": "请填写联系邮箱", "invalid": "这不是有效的邮箱地址"},
    )
    text = _text("异议理由")


class ReviewForm(forms.Form):
    """One staff decision on a request."""

    action = forms.ChoiceField(
        choices=[
            ("approve", "批准"),
            ("reject", "驳回"),
            ("ask", "要求补充材料"),
            ("restore", "恢复（撤销批准）"),
        ]
    )
    verb = forms.ChoiceField(
        choices=[("block", "屏蔽（451）"), ("exclude", "排除（404）")], required=False
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    starts_at = forms.DateTimeField(required=False, label="生效时间（可选）")
    ends_at = forms.DateTimeField(required=False, label="禁期截止（可选）")
