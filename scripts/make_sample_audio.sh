#!/usr/bin/env bash
# Regenerate the tiny sample audiobooks in media/samples/ (committed; not needed at install time).
# Needs espeak-ng, sox, lame and ffmpeg (apt-get install espeak-ng sox lame ffmpeg) and the project's
# .venv (mutagen writes the ID3 chapters). Everything is generated speech, a few seconds per book:
#   kuulo-pieni-tarina.mp3   Finnish, one MP3 with ID3 CHAP/CTOC chapters
#   small-voyage.m4b         English, AAC in MP4 with chapters (ffmpeg ffmetadata)
#   liten-saga/              Swedish, a DAISY 2.02-style folder: 3 MP3 tracks, ncc.html and SMIL files
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=media/samples
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
PY=.venv/bin/python

say() {  # say VOICE "text" OUT.wav  → mono 22.05 kHz speech with a short pause at the end
  espeak-ng -v "$1" -s 150 -w "$WORK/raw.wav" "$2"
  sox "$WORK/raw.wav" -r 22050 -c 1 "$3" pad 0 0.4
}
seconds() { soxi -D "$1"; }
mp3() { lame --quiet -m m -b 32 --resample 22.05 "$1" "$2"; }

# ---- 1. Finnish MP3 with ID3 chapters
say fi "Luku yksi. Olipa kerran pieni kirjasto, joka lainasi kuunneltavia kirjoja." "$WORK/fi1.wav"
say fi "Luku kaksi. Kaikki saivat kuunnella, myös ne, jotka eivät voi lukea painettua tekstiä." "$WORK/fi2.wav"
say fi "Luku kolme. Ja niin tarina päättyy." "$WORK/fi3.wav"
sox "$WORK/fi1.wav" "$WORK/fi2.wav" "$WORK/fi3.wav" "$WORK/fi.wav"
mp3 "$WORK/fi.wav" "$OUT/kuulo-pieni-tarina.mp3"
"$PY" - "$OUT/kuulo-pieni-tarina.mp3" "$(seconds "$WORK/fi1.wav")" "$(seconds "$WORK/fi2.wav")" \
  "$(seconds "$WORK/fi3.wav")" <<'EOF'
import sys
from mutagen.id3 import CHAP, CTOC, ID3, TALB, TCOM, TIT2, TLAN, TPE1, TXXX, CTOCFlags
path, lengths = sys.argv[1], [float(x) for x in sys.argv[2:]]
tags = ID3()
tags.add(TIT2(encoding=3, text="Pieni tarina"))
tags.add(TALB(encoding=3, text="Pieni tarina"))
tags.add(TPE1(encoding=3, text="Aino Kirjoittaja"))
tags.add(TCOM(encoding=3, text="eSpeak NG"))  # audiobook convention: composer = narrator
tags.add(TXXX(encoding=3, desc="NARRATOR", text="eSpeak NG"))
tags.add(TLAN(encoding=3, text="fin"))
titles = ["Luku 1: Kirjasto", "Luku 2: Kuuntelijat", "Luku 3: Loppu"]
start = 0
ids = []
for n, (title, length) in enumerate(zip(titles, lengths), 1):
    end = start + int(length * 1000)
    ids.append(f"ch{n}")
    tags.add(CHAP(element_id=f"ch{n}", start_time=start, end_time=end, sub_frames=[TIT2(encoding=3, text=title)]))
    start = end
tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
              sub_frames=[TIT2(encoding=3, text="Sisällys")]))
tags.save(path, v2_version=4)
EOF

# ---- 2. English M4B with chapters
say en-gb "Chapter one. The small ship left the harbour at dawn." "$WORK/en1.wav"
say en-gb "Chapter two. A storm came, and the crew listened to audiobooks." "$WORK/en2.wav"
say en-gb "Chapter three. They came home safely. The end." "$WORK/en3.wav"
sox "$WORK/en1.wav" "$WORK/en2.wav" "$WORK/en3.wav" "$WORK/en.wav"
{
  echo ";FFMETADATA1"
  echo "title=A Small Voyage"
  echo "album=A Small Voyage"
  echo "artist=Emily Writer"
  echo "album_artist=Emily Writer"
  echo "composer=eSpeak NG"
  echo "genre=Audiobook"
  start=0
  n=1
  for f in en1 en2 en3; do
    ms=$("$PY" -c "print(int(round($(seconds "$WORK/$f.wav") * 1000)))")
    echo "[CHAPTER]"; echo "TIMEBASE=1/1000"; echo "START=$start"; echo "END=$((start + ms))"
    case $n in 1) t="The harbour";; 2) t="The storm";; 3) t="Home";; esac
    echo "title=Chapter $n: $t"
    start=$((start + ms)); n=$((n + 1))
  done
} > "$WORK/meta.txt"
ffmpeg -loglevel error -y -i "$WORK/en.wav" -i "$WORK/meta.txt" -map 0:a -map_metadata 1 -map_chapters 1 \
  -c:a aac -b:a 32k -ac 1 -ar 22050 -metadata:s:a:0 language=eng -f ipod "$OUT/small-voyage.m4b"
"$PY" - "$OUT/small-voyage.m4b" <<'EOF'
import sys
from mutagen.mp4 import MP4, MP4FreeForm
book = MP4(sys.argv[1])
book["----:com.apple.iTunes:LANGUAGE"] = [MP4FreeForm(b"eng")]
book["----:com.apple.iTunes:NARRATOR"] = [MP4FreeForm(b"eSpeak NG")]
book.save()
EOF

# ---- 3. Swedish DAISY 2.02-style folder: MP3 tracks, SMIL files and an NCC
D="$OUT/liten-saga"
rm -rf "$D"; mkdir -p "$D"
say sv "En liten saga. Inledning." "$WORK/sv1.wav"
say sv "Första kapitlet. Det var en gång en bok som ville bli lyssnad på." "$WORK/sv2.wav"
say sv "Andra kapitlet. Och alla lyssnade. Slut." "$WORK/sv3.wav"
titles=("Inledning" "Första kapitlet" "Andra kapitlet")
total=0
for i in 1 2 3; do
  mp3 "$WORK/sv$i.wav" "$D/0${i}_spar.mp3"
  "$PY" - "$D/0${i}_spar.mp3" "${titles[$((i - 1))]}" "$i" <<'EOF'
import sys
from mutagen.id3 import ID3, TALB, TCOM, TIT2, TLAN, TPE1, TRCK
tags = ID3()
tags.add(TIT2(encoding=3, text=sys.argv[2]))
tags.add(TALB(encoding=3, text="En liten saga"))
tags.add(TPE1(encoding=3, text="Sven Författare"))
tags.add(TCOM(encoding=3, text="eSpeak NG"))
tags.add(TLAN(encoding=3, text="swe"))
tags.add(TRCK(encoding=3, text=f"{sys.argv[3]}/3"))
tags.save(sys.argv[1], v2_version=4)
EOF
  len=$(seconds "$WORK/sv$i.wav")
  pars="    <par endsync=\"last\" id=\"par_$i\"><text src=\"ncc.html#h$i\" id=\"txt_$i\"/>
      <audio src=\"0${i}_spar.mp3\" clip-begin=\"npt=0.000s\" clip-end=\"npt=${len}s\" id=\"aud_$i\"/></par>"
  if [ "$i" = 2 ]; then  # a sub-heading halfway through track 2: a nested toc entry with a clip-begin
    half=$("$PY" -c "print(round($len / 2, 3))")
    pars="    <par endsync=\"last\" id=\"par_2\"><text src=\"ncc.html#h2\" id=\"txt_2\"/>
      <audio src=\"02_spar.mp3\" clip-begin=\"npt=0.000s\" clip-end=\"npt=${half}s\" id=\"aud_2\"/></par>
    <par endsync=\"last\" id=\"par_2b\"><text src=\"ncc.html#h2b\" id=\"txt_2b\"/>
      <audio src=\"02_spar.mp3\" clip-begin=\"npt=${half}s\" clip-end=\"npt=${len}s\" id=\"aud_2b\"/></par>"
  fi
  cat > "$D/0${i}_spar.smil" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE smil PUBLIC "-//W3C//DTD SMIL 1.0//EN" "http://www.w3.org/TR/REC-smil/SMIL10.dtd">
<smil>
  <head><meta name="dc:format" content="Daisy 2.02"/><layout><region id="txtView"/></layout></head>
  <body><seq dur="${len}s">
$pars
  </seq></body>
</smil>
EOF
done
cat > "$D/ncc.html" <<'EOF'
<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" lang="sv">
<head>
  <meta http-equiv="Content-type" content="text/html; charset=utf-8"/>
  <title>En liten saga</title>
  <meta name="dc:title" content="En liten saga"/>
  <meta name="dc:creator" content="Sven Författare"/>
  <meta name="dc:language" content="sv"/>
  <meta name="dc:format" content="Daisy 2.02"/>
  <meta name="ncc:narrator" content="eSpeak NG"/>
  <meta name="ncc:multimediaType" content="audioNcc"/>
</head>
<body>
  <h1 class="title" id="h1"><a href="01_spar.smil#txt_1">En liten saga – inledning</a></h1>
  <h1 id="h2"><a href="02_spar.smil#txt_2">Första kapitlet</a></h1>
  <h2 id="h2b"><a href="02_spar.smil#txt_2b">Boken som ville bli lyssnad på</a></h2>
  <h1 id="h3"><a href="03_spar.smil#txt_3">Andra kapitlet</a></h1>
</body>
</html>
EOF
# A cover image beside the tracks (ingest takes cover.png or cover.jpg from a book's folder).
"$PY" - "$D/cover.png" <<'EOF'
import sys
from pathlib import Path

import reportlab
from PIL import Image, ImageDraw, ImageFont
VERA = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"  # Bitstream Vera, shipped with reportlab
image = Image.new("RGB", (300, 450), (22, 52, 96))
draw = ImageDraw.Draw(image)
draw.rectangle((16, 16, 283, 433), outline=(245, 236, 210), width=4)
for y, (text, size) in zip((150, 215, 360), (("En liten", 48), ("saga", 48), ("Sven Författare", 22))):
    font = ImageFont.truetype(str(VERA), size)
    width = draw.textlength(text, font=font)
    draw.text(((300 - width) / 2, y), text, fill=(245, 236, 210), font=font)
image.save(sys.argv[1], optimize=True)
EOF
du -ch "$OUT" | tail -n 1
