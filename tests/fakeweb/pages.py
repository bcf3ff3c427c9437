"""Search result pages in each engine's real markup, so the engines' parsers run unchanged.

Shapes follow the recorded pages in ../shared/testdata/search_pages/: Bing's ``a.iusc`` anchors
with HTML-escaped JSON in ``m`` and ``expw``/``exph`` in ``href``; DuckDuckGo's page carrying the
``vqd`` token and its ``i.js`` JSON with ``results`` and ``next``.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from dataclasses import dataclass
from urllib.parse import quote, quote_plus, urlencode

BING_PAGE_SIZE = 35  # what Bing's grid loads per request (``DgConfig.ac`` in the real page)
DDG_PAGE_SIZE = 100  # results per i.js answer, as in the recorded i.js file


def slug(keyword: str) -> str:
    """File-name-safe form of a keyword, used in result image names."""
    return re.sub(r"[^a-z0-9]+", "-", keyword.lower()).strip("-") or "q"


def result_title(keyword: str, index: int) -> str:
    # Carries characters that must survive HTML and JSON escaping on their way to the parser.
    return f'{keyword} picture {index} & "friends"'


@dataclass(frozen=True, slots=True)
class Result:
    index: int
    image_url: str
    page_url: str
    thumbnail_url: str
    title: str
    width: int
    height: int


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- Bing


def _bing_item(keyword: str, r: Result) -> str:
    digest = _digest(r.image_url)
    meta = {
        "sid": "",
        "cturl": "",
        "cid": digest[:8],
        "purl": r.page_url,
        "murl": r.image_url,
        "turl": r.thumbnail_url,
        "md5": digest[:32],
        "shkey": digest[32:64],
        "t": r.title,
        "mid": digest[:40].upper(),
        "desc": r.title,
    }
    detail = "/images/search?" + urlencode(
        {
            "view": "detailV2",
            "ccid": digest[:8],
            "id": digest[:40].upper(),
            "thid": f"OIP.{digest[:24]}",
            "mediaurl": r.image_url,
            "exph": r.height,
            "expw": r.width,
            "q": keyword,
            "FORM": "IRPRST",
            "ck": digest[:32].upper(),
            "selectedIndex": r.index,
            "itb": 0,
        }
    )
    m_attr = html.escape(json.dumps(meta, separators=(",", ":")), quote=True)
    kw = html.escape(keyword)
    href = html.escape(detail, quote=True)
    thumb = html.escape(r.thumbnail_url, quote=True)
    alt = html.escape(r.title, quote=True)
    page = html.escape(r.page_url, quote=True)
    return (
        f'<li><div class="iuscp isv" data-idx="{r.index}"><div class="imgpt">'
        f'<a aria-label="Image result for {kw}" role="link" class="iusc" '
        f'style="height:196px;width:261px" m="{m_attr}" data-fnvg="1" href="{href}" '
        f'h="ID=images,{r.index}.1"><div class="img_cont hoff"><img class="mimg" height="196" '
        f'width="261" src="{thumb}" alt="{alt}"></div></a></div><div class="infopt">'
        f'<a class="inflnk" href="{page}" aria-label="{alt}">{html.escape(r.title)}</a>'
        "</div></div></li>"
    )


def _bing_grid(keyword: str, results: list[Result], first: int) -> str:
    items = "".join(_bing_item(keyword, r) for r in results)
    return (
        f'<div id="mmComponent_images_{first}" class="dg_b isvctrl" data-nexturl="">'
        f'<ul class="dgControl_list " data-row="{first}">{items}</ul></div>'
    )


def bing_search_page(keyword: str, results: list[Result], first: int) -> str:
    """Full ``/images/search`` page: the first batch of the grid plus the scripts around it."""
    q = html.escape(keyword)
    if results:
        body = _bing_grid(keyword, results, first)
    else:
        body = (
            '<div id="b_no"><div class="dg_nores">There are no results for '
            f"<strong>{q}</strong></div><ul><li>Check your spelling or try different "
            "keywords</li></ul></div>"
        )
    config = json.dumps(
        {
            "aurl": "/images/async?q=%QUERY%&async=content&first=%FIRST%&count=%COUNT%",
            "ac": BING_PAGE_SIZE,
            "vn": "images",
        }
    )
    return (
        '<!DOCTYPE html><html lang="en" xml:lang="en" xmlns="http://www.w3.org/1999/xhtml">'
        f'<head><meta content="text/html; charset=utf-8" http-equiv="content-type" />'
        f"<title>{q} - Search Images</title>"
        f'<script type="text/javascript">var _w=window;DgConfig={config};</script></head>'
        '<body class="b_respl"><header id="b_header"><form id="sb_form" action="/images/search">'
        f'<input id="sb_form_q" name="q" value="{q}" /></form></header>'
        f'<div id="b_content"><div id="vm_c">{body}</div></div></body></html>'
    )


def bing_async_fragment(keyword: str, results: list[Result], first: int) -> str:
    """``/images/async`` answer: only the next rows of the grid (empty once results run out)."""
    return _bing_grid(keyword, results, first)


def bing_captcha_page() -> str:
    """What Bing shows a client it takes for a bot: a challenge, no results."""
    return (
        "<!DOCTYPE html><html><head><title>Bing</title></head><body>"
        '<div id="b_captcha"><h1>One last step</h1><p>Please solve the challenge below to '
        "continue</p>"
        '<form method="post" action="/turing/captcha/challenge">'
        '<iframe src="/turing/captcha/challenge?t=1"></iframe>'
        '<input type="hidden" name="rurl" value="/images/search" /></form></div></body></html>'
    )


def unrecognisable_page(title: str) -> str:
    """A 200 answer whose markup no parser knows: the site changed its layout."""
    return (
        f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head><body>"
        '<div id="app-root" data-version="9"><noscript>Enable JavaScript to continue.'
        "</noscript></div></body></html>"
    )


# ---------------------------------------------------------------- DuckDuckGo


def ddg_vqd(keyword: str) -> str:
    """The per-query token DuckDuckGo embeds in its page and demands back on ``i.js``."""
    d = _digest("vqd:" + keyword)
    return f"4-{int(d[:30], 16)}-{int(d[30:60], 16)}"


def ddg_vqd_page(keyword: str) -> str:
    q = html.escape(keyword)
    js_q = json.dumps(keyword)
    return (
        '<!DOCTYPE html><html lang="en-US" class="no-js has-zcm no-theme"><head>'
        '<meta http-equiv="content-type" content="text/html; charset=utf-8">'
        f"<title>{q} at DuckDuckGo</title>"
        '<meta name="robots" content="noindex,nofollow"><meta name="referrer" content="origin">'
        '<script type="text/javascript">var ct,fd,fq,it,iqa,iqm,iqs,iqp,iqq,qw,dl,ra,rv;'
        f"fq=0;fd=1;it=0;iqa=0;iqm=0;iqs=0;iqp=0;iqq=0;qw=1;dl='en';ct='US';rq={js_q};"
        "rt='D';rl='us-en';locale='en_US';"
        f'vqd="{ddg_vqd(keyword)}";safe_ddg=0;</script>'
        '</head><body><div id="react-layout"></div></body></html>'
    )


def ddg_ijs(keyword: str, results: list[Result], offset: int, has_more: bool) -> str:
    items = [
        {
            "height": r.height,
            "image": r.image_url,
            "image_token": _digest(r.image_url)[:40],
            "source": "Bing",
            "thumbnail": r.thumbnail_url,
            "thumbnail_token": _digest(r.thumbnail_url)[:40],
            "title": r.title,
            "url": r.page_url,
            "width": r.width,
        }
        for r in results
    ]
    vqd = ddg_vqd(keyword)
    payload: dict[str, object] = {
        "ads": None,
        "query": keyword,
        "queryEncoded": quote_plus(keyword),
        "response_type": "places",
        "results": items,
        "vqd": {keyword: vqd},
    }
    if has_more:
        payload["next"] = (
            f"i.js?q={quote_plus(keyword)}&o=json&p=1&s={offset + len(results)}"
            f"&u=bing&f=,,,,,&l=us-en&vqd={quote(vqd)}"
        )
    return json.dumps(payload)


def result_page_html(keyword: str, index: int, image_url: str) -> str:
    """The page a result links to (``page_url``), so following it works too."""
    title = html.escape(result_title(keyword, index))
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f'<img src="{html.escape(image_url, quote=True)}" alt="{title}"></body></html>'
    )
