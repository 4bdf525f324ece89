#!/bin/bash
# VAD evaluation set for `asr eval --vad` (issue 17; numbers in crates/asr/README.md):
# 24 sentences by espeak-ng in two voices held out of models/asr-en's training
# (en-us+m7, en-gb+f5); three manifests: as rendered (plain), with 1.5-4 s of
# silence before and after (padded: faint white noise, rms ~0.002), and the
# same padding under louder noise (noisy: rms ~0.01 over the whole file).
set -euo pipefail
OUT=${1:?usage: scripts/make-vad-eval-set.sh OUT_DIR}
mkdir -p "$OUT" && cd "$OUT"
mkdir -p wav
: > plain.jsonl; : > padded.jsonl; : > noisy.jsonl
i=0
while IFS= read -r text; do
  [ -z "$text" ] && continue
  voice=$([ $((i % 2)) -eq 0 ] && echo en-us+m7 || echo en-gb+f5)
  espeak-ng -v "$voice" -s 160 -p 50 -w wav/p$i.wav -- "$text"
  sox -R wav/p$i.wav -r 16000 wav/plain$i.wav
  lead=$(awk -v i=$i 'BEGIN{srand(i+1); printf "%.2f", 1.5+2.5*rand()}')
  tail=$(awk -v i=$i 'BEGIN{srand(i+101); printf "%.2f", 1.5+2.5*rand()}')
  sox -R wav/plain$i.wav wav/z$i.wav pad "$lead" "$tail"
  sox -R wav/z$i.wav -p synth whitenoise vol 0.004 | sox -R -m wav/z$i.wav - wav/padded$i.wav
  sox -R wav/z$i.wav -p synth whitenoise vol 0.02 | sox -R -m wav/z$i.wav - wav/noisy$i.wav
  for k in plain padded noisy; do
    printf '{"audio":"wav/%s%d.wav","text":"%s"}\n' "$k" "$i" "$text" >> $k.jsonl
  done
  i=$((i+1))
done <<'TXT'
the children played in the garden until dark
she bought fresh bread and a bottle of milk
we will meet at the station tomorrow morning
the old man walked his dog along the river
please close the window before you leave
my brother works in a small office downtown
the train was late because of the snow
they painted the kitchen a bright yellow
i forgot my umbrella at the restaurant
the teacher asked us to read the first chapter
a cold wind blew across the empty field
he plays the guitar every evening after dinner
the market sells apples oranges and pears
we watched a long movie about the sea
her phone rang three times during the meeting
the cat slept on the warm blanket all day
turn left at the church and then go straight
the museum opens at nine on sunday
my sister wants to learn how to swim
the road was wet after the heavy rain
he wrote a letter to his friend in spain
the baby laughed when the dog barked
we need more chairs for the party tonight
the pilot said the flight would be smooth
TXT
wc -l plain.jsonl
