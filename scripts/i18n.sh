#!/usr/bin/env bash
# Translation catalogue helper for Kuulo.
#
#   scripts/i18n.sh extract   # source strings -> app/translations/messages.pot
#   scripts/i18n.sh update    # extract, then merge the .pot into every <lang>/messages.po
#   scripts/i18n.sh compile   # .po -> .mo
#   scripts/i18n.sh check     # list msgids without a fi or sv translation; exit 1 if any
#
# Uses the pybabel on PATH and ${PYTHON:-python}: activate the virtualenv first.
set -euo pipefail

cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python}"
TRANSLATIONS=app/translations
POT="$TRANSLATIONS/messages.pot"

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
}

extract() {
    # The patterns in babel.cfg are relative to the directory being scanned
    # ("app/**.py", "app/templates/**.html"), so the scan starts at the project
    # root: scanning "app" itself would match nothing and write an empty .pot.
    local tmp
    tmp="$(mktemp "${TMPDIR:-/tmp}/kuulo-messages.XXXXXX")"
    if ! pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --omit-header -o "$tmp" .; then
        rm -f "$tmp"
        return 1
    fi
    # Refuse to replace the template with an empty one: `update` would then
    # drop every translation (--ignore-obsolete).
    if ! grep -q '^msgid "[^"]' "$tmp"; then
        rm -f "$tmp"
        echo "i18n.sh: extraction found no messages; $POT left unchanged" >&2
        return 1
    fi
    mv "$tmp" "$POT"
    echo "wrote $POT"
}

update() {
    extract
    pybabel update -i "$POT" -d "$TRANSLATIONS" --no-fuzzy-matching --ignore-obsolete
}

compile() {
    pybabel compile -d "$TRANSLATIONS"
}

check() {
    "$PYTHON" - "$TRANSLATIONS" <<'PY'
import sys
from pathlib import Path

from babel.messages.pofile import read_po

root = Path(sys.argv[1])
with (root / "messages.pot").open("rb") as f:
    template_ids = [m.id for m in read_po(f) if m.id]

problems = 0
for lang in ("fi", "sv"):
    with (root / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            missing.append((message.id, "empty"))
        elif message.fuzzy:
            missing.append((message.id, "fuzzy"))
    for msgid in template_ids:
        if msgid not in catalog:
            missing.append((msgid, "not in .po; run: scripts/i18n.sh update"))
    for msgid, why in missing:
        shown = msgid[0] if isinstance(msgid, tuple) else msgid
        print(f"{lang}: {why}: {shown!r}")
    problems += len(missing)

if problems:
    print(f"{problems} untranslated message(s) in fi/sv", file=sys.stderr)
    sys.exit(1)
print("fi and sv: every message is translated")
PY
}

case "${1:-}" in
    extract) extract ;;
    update) update ;;
    compile) compile ;;
    check) check ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
esac
