"""RSS 2.0 feeds, sitemaps (index, parts, Google News) and robots.txt."""

from __future__ import annotations

from html import escape

from kuaizhao.sampleweb.corpus import Article, Corpus, fmt, iso
from kuaizhao.sampleweb.sites import SITES, Site

FEED_ITEMS = 30
SITEMAP_URLS = 1000
NEWS_ITEMS = 100


def x(text: str) -> str:
    return escape(text, quote=False)


def rfc822(ts: int) -> str:
    return fmt(ts, "%a, %d %b %Y %H:%M:%S +0800")


def rss(corpus: Corpus, site: Site, cat: int) -> str:
    base = f"{corpus.origin}/{site.slug}/"
    arts = corpus.by_channel[SITES.index(site)][cat][-FEED_ITEMS:][::-1]
    items = []
    for a in arts:
        url = corpus.url(a)
        view = corpus.view(a)
        first = view.blocks[0][0] if view.blocks else ""
        items.append(
            f"<item><title>{x(view.title)}</title><link>{x(url)}</link>"
            f"<description>{x(first[:120])}</description><pubDate>{rfc822(a.ts)}</pubDate>"
            f'<guid isPermaLink="true">{x(url)}</guid><category>{site.labels[cat]}</category>'
            f"<source>{x(view.source)}</source></item>\n"
        )
    built = rfc822(arts[0].ts) if arts else rfc822(0)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n<channel>\n'
        f"<title>{x(site.name)} - {site.labels[cat]}</title>\n"
        f"<link>{x(base + site.list_path(cat))}</link>\n"
        f"<description>{x(site.name)}{site.labels[cat]}频道最新新闻</description>\n"
        f"<language>zh-cn</language>\n<lastBuildDate>{built}</lastBuildDate>\n"
        + "".join(items)
        + "</channel>\n</rss>\n"
    )


def sitemap_parts(corpus: Corpus, site: Site) -> int:
    n = len(corpus.by_site[SITES.index(site)])
    return max(1, -(-n // SITEMAP_URLS))


def sitemap_index(corpus: Corpus, site: Site) -> str:
    base = f"{corpus.origin}/{site.slug}/"
    arts = corpus.by_site[SITES.index(site)]
    rows = []
    for i in range(sitemap_parts(corpus, site)):
        chunk = arts[i * SITEMAP_URLS : (i + 1) * SITEMAP_URLS]
        last = iso(chunk[-1].ts) if chunk else iso(0)
        rows.append(
            f"<sitemap><loc>{base}sitemap_{i + 1}.xml</loc><lastmod>{last}</lastmod></sitemap>"
        )
    latest = iso(arts[-1].ts) if arts else iso(0)
    rows.append(f"<sitemap><loc>{base}sitemap_news.xml</loc><lastmod>{latest}</lastmod></sitemap>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(rows)
        + "\n</sitemapindex>\n"
    )


def sitemap_part(corpus: Corpus, site: Site, part: int) -> str | None:
    if not 1 <= part <= sitemap_parts(corpus, site):
        return None
    arts = corpus.by_site[SITES.index(site)][(part - 1) * SITEMAP_URLS : part * SITEMAP_URLS]
    rows = [
        f"<url><loc>{x(corpus.url(a))}</loc><lastmod>{iso(max(a.ts, a.modified))}</lastmod>"
        "<changefreq>never</changefreq></url>"
        for a in arts
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(rows)
        + "\n</urlset>\n"
    )


def news_sitemap(corpus: Corpus, site: Site) -> str:
    arts: list[Article] = corpus.by_site[SITES.index(site)][-NEWS_ITEMS:][::-1]
    rows = [
        f"<url><loc>{x(corpus.url(a))}</loc><news:news><news:publication>"
        f"<news:name>{x(site.name)}</news:name><news:language>zh-cn</news:language>"
        f"</news:publication><news:publication_date>{iso(a.ts)}</news:publication_date>"
        f"<news:title>{x(corpus.title(a))}</news:title></news:news></url>"
        for a in arts
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
        + "\n".join(rows)
        + "\n</urlset>\n"
    )


def disallowed_prefixes() -> list[str]:
    out = ["/_control/"]
    for s in SITES:
        out += [f"/{s.slug}/{s.print_prefix}", f"/{s.slug}/{s.search_prefix}"]
    return out


def robots(corpus: Corpus) -> str:
    lines = ["User-agent: *"]
    lines += [f"Disallow: {p}" for p in disallowed_prefixes()]
    lines.append("")
    lines += [f"Sitemap: {corpus.origin}/{s.slug}/sitemap.xml" for s in SITES]
    return "\n".join(lines) + "\n"
