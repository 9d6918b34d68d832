"""The atlas's page: one static `OUT/index.html` that opens from disk, with no server and no network.

The CSS and the script are inline, the images are the atlas's own files by
relative path. One page per layer (`index.html#mixed4`): a grid of numbered
thumbnails; a click opens the render large, with the channel's strongest
photos when the atlas has them (`deepdream.atlas.write_photo_crops`).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from deepdream.options import ATLAS_LAYERS
from inception_keras.files import atomic_path

PAGE_NAME = "index.html"

STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#111;color:#ddd}
header{position:sticky;top:0;background:#1b1b1b;padding:8px 12px;border-bottom:1px solid #333;z-index:1}
header a{color:#9cf;margin-right:10px;text-decoration:none}header a.on{color:#fff;font-weight:bold}
h1{font-size:18px;margin:4px 0}main{padding:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(96px,1fr));gap:6px}
.cell{cursor:pointer;text-align:center;font-size:11px}.cell img{width:100%;image-rendering:auto;display:block}
#view{display:none;position:fixed;inset:0;background:rgba(0,0,0,.92);z-index:2;overflow:auto;text-align:center}
#view.open{display:block}#view img.big{width:min(80vmin,512px);margin-top:24px}
#view .photos img{width:112px;margin:4px}#view p{margin:6px}#close{position:fixed;top:8px;right:16px;font-size:28px;
cursor:pointer}
"""

SCRIPT = """
const atlas = JSON.parse(document.getElementById('atlas-data').textContent);
const layers = Object.keys(atlas);
function pad(c){return String(c).padStart(4,'0');}
function show(){
  const layer = layers.includes(location.hash.slice(1)) ? location.hash.slice(1) : layers[0];
  document.querySelectorAll('header a').forEach(a => a.classList.toggle('on', a.dataset.layer === layer));
  const entry = atlas[layer] || {channels: []};
  document.getElementById('title').textContent =
    layer + ': ' + entry.channels.length + ' of ' + entry.count + ' channels (click one to see it large)';
  const grid = document.getElementById('grid');
  grid.replaceChildren();
  for (const c of entry.channels) {
    const cell = document.createElement('div');
    cell.className = 'cell'; cell.dataset.channel = c;
    const img = document.createElement('img');
    img.src = layer + '/' + pad(c) + '.png'; img.alt = layer + ':' + c; img.loading = 'lazy';
    cell.append(img, document.createTextNode(c));
    cell.onclick = () => open_view(layer, c);
    grid.append(cell);
  }
}
function open_view(layer, c){
  const view = document.getElementById('view');
  view.querySelector('img.big').src = layer + '/' + pad(c) + '.png';
  view.querySelector('p').textContent = layer + ' channel ' + c;
  const photos = view.querySelector('.photos');
  photos.replaceChildren();
  for (const p of ((atlas[layer].photos || {})[c] || [])) {
    const img = document.createElement('img');
    img.src = p.file; img.title = p.photo + ' (mean ' + p.mean + ')'; img.alt = p.photo;
    photos.append(img);
  }
  view.classList.add('open');
}
document.getElementById('close').onclick = () => document.getElementById('view').classList.remove('open');
document.addEventListener('keydown', e => {
  if (e.key === 'Escape') document.getElementById('view').classList.remove('open');
});
window.addEventListener('hashchange', show);
show();
"""


def atlas_contents(out, counts: dict[str, int]) -> dict[str, dict]:
    """`{layer: {"count": counts[layer], "channels": [rendered channel numbers]}}` of the files in `out`."""
    contents = {}
    for layer in ATLAS_LAYERS:
        folder = Path(out) / layer
        channels = sorted(int(p.stem) for p in folder.glob("[0-9][0-9][0-9][0-9].png")) if folder.is_dir() else []
        if channels:
            contents[layer] = dict(count=counts[layer], channels=channels)
    return contents


def write_atlas_page(out, counts: dict[str, int], photos: dict[str, dict[int, list[dict]]] | None = None) -> Path:
    """Writes `out/index.html` for the renders in `out` (and the photos' crops); returns its path.

    Args:
        out: the atlas folder.
        counts: `{layer: its number of channels}`.
        photos: `{layer: {channel: [{"file", "photo", "mean"}, ...]}}`, as
            `write_photo_crops` returns. Defaults to none: the crops listed in
            an earlier page are kept.
    """
    out = Path(out)
    contents = atlas_contents(out, counts)
    earlier = read_page_data(out / PAGE_NAME)
    for layer, entry in contents.items():
        layer_photos = (photos or {}).get(layer)
        if layer_photos is None:
            layer_photos = {int(c): p for c, p in earlier.get(layer, {}).get("photos", {}).items()}
        entry["photos"] = {str(c): p for c, p in layer_photos.items() if c in entry["channels"]}
    data = json.dumps(contents, separators=(",", ":")).replace("</", "<\\/")
    links = "".join(f'<a href="#{layer}" data-layer="{layer}">{html.escape(layer)}</a>' for layer in contents)
    page = (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Channel atlas</title>"
            f"<style>{STYLE}</style></head><body><header><h1>Inception-v3 channel atlas</h1>{links}</header>"
            f"<main><p id=\"title\"></p><div class=\"grid\" id=\"grid\"></div></main>"
            f"<div id=\"view\"><span id=\"close\">&times;</span><img class=\"big\" alt=\"\"><p></p>"
            f"<div class=\"photos\"></div></div>"
            f"<script type=\"application/json\" id=\"atlas-data\">{data}</script><script>{SCRIPT}</script>"
            f"</body></html>\n")
    path = out / PAGE_NAME
    with atomic_path(path) as temp:
        temp.write_text(page, encoding="utf-8")
    return path


def read_page_data(path) -> dict:
    """The atlas data an earlier `index.html` holds, or `{}` when there is none or it cannot be read."""
    path = Path(path)
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8", errors="replace")
    start = text.find('id="atlas-data">')
    end = text.find("</script>", start)
    if start < 0 or end < 0:
        return {}
    try:
        data = json.loads(text[start + len('id="atlas-data">'): end].replace("<\\/", "</"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
