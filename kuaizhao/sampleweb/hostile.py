"""A hostile article page: every way a crawled page may try to run script on the archive.

``POST /_control/publish`` with ``"hostile": true`` publishes an article whose page carries
this markup. Each script that manages to run would report itself by a request whose path
contains ``PWNED-RAN`` (any origin), an ``alert()``, or by setting ``window.PWNED``, so a test can
tell from the browser that none ran.
"""

from __future__ import annotations

MARKER = "PWNED-RAN"

_RUN = f"window.PWNED=1;alert(1);new Image().src='/{MARKER}?via='+location.href"

HEAD = f"""<script>{_RUN}</script>
<meta http-equiv="refresh" content="5;url=javascript:{_RUN}">
<base href="http://hostile.example/">
<link rel="stylesheet" href="http://hostile.example/hostile.css">
<style>body {{ background: url("javascript:{_RUN}"); width: expression(alert(1)); }}</style>
"""

BEFORE = "\n".join(
    [
        f"<p>这一段正文后面跟着一段脚本。<script>{_RUN}</script>脚本之后的文字照常显示。</p>",
        f'<p><img src="/missing-image.png" onerror="{_RUN}" alt="坏图片">'
        "图片加载失败时会尝试运行脚本。</p>",
        f'<p>链接：<a href="javascript:{_RUN}">点这里</a>、'
        f'<a href=" JaVaScRiPt:{_RUN}">大小写混写</a>、'
        f'<a href="&#106;avascript:{_RUN}">实体编码</a>、'
        f'<a href="data:text/html,&lt;script&gt;{_RUN}&lt;/script&gt;">数据网址</a>。</p>',
    ]
)
"""Put in front of the article's own paragraphs."""

AFTER = "\n".join(
    [
        f'<svg xmlns="http://www.w3.org/2000/svg" onload="{_RUN}"><script>{_RUN}</script>'
        f'<a href="javascript:{_RUN}"><text x="0" y="15">SVG 链接</text></a></svg>',
        f"<p style=\"background-image: url('javascript:{_RUN}'); width: expression(alert(1));\">"
        "带样式表达式的段落。</p>",
        f'<div onmouseover="{_RUN}" onclick="{_RUN}">'
        "鼠标经过或点击这段文字时会尝试运行脚本。</div>",
        f'<iframe src="javascript:{_RUN}"></iframe>',
        f'<iframe srcdoc="&lt;script&gt;{_RUN}&lt;/script&gt;"></iframe>',
        f'<object data="javascript:{_RUN}"></object><embed src="javascript:{_RUN}">',
        f'<form action="javascript:{_RUN}">'
        f'<button formaction="javascript:{_RUN}">提交</button></form>',
        f'<math><mi xlink:href="javascript:{_RUN}">数学公式链接</mi></math>',
        f'<details open ontoggle="{_RUN}"><summary>展开</summary>展开时会尝试运行脚本。</details>',
        "<p>最后一段：以上都是恶意代码，快照里只应留下这些文字。</p>",
    ]
)
"""Put after them, still inside the article body."""


def inject(html: str) -> str:
    """``html`` (an article page) with the hostile markup in its head and article body."""
    html = html.replace("</head>", HEAD + "</head>", 1)
    content = '<div class="content" id="content">\n'
    start = html.index(content) + len(content)
    end = html.index("</div>", start)
    return html[:start] + BEFORE + html[start:end] + AFTER + html[end:]
