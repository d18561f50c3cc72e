#!/bin/sh
# The demonstration PACS for `make run`: a private Orthanc with DICOMweb on
# loopback port 18042 (its own folder, HTTP Basic with a password made here and
# kept in a file only you can read), a few synthetic studies of the fictional
# demonstration patients made with dcmtk's dump2dcm, and the settings file that
# points the workstation at it. Without Orthanc, the settings name no PACS and
# the Imaging page says so. Safe to run again: Orthanc keeps each study once.
set -eu

DIR="${XDG_DATA_HOME:-$HOME/.local/share}/clinicalworkstation/demo-pacs"
SETTINGS="$DIR/workstation.toml"
PORT=18042
mkdir -p "$DIR"
chmod 700 "$DIR"

if [ ! -x /usr/sbin/Orthanc ] || [ ! -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || ! command -v dump2dcm >/dev/null; then
	echo "Orthanc with DICOMweb or dcmtk is not installed (Debian orthanc, orthanc-dicomweb, dcmtk; make deps installs them): the Imaging page will say that no PACS is set up."
	: > "$SETTINGS"
	exit 0
fi

if [ ! -s "$DIR/credentials" ]; then
	umask 077
	printf 'cws-demo:%s\n' "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" > "$DIR/credentials"
fi
CREDENTIALS=$(head -n1 "$DIR/credentials")
DEMO_USER=${CREDENTIALS%%:*}
DEMO_PASSWORD=${CREDENTIALS#*:}

cat > "$DIR/orthanc.json" <<JSON
{
  "Name": "cws-demo-pacs",
  "StorageDirectory": "$DIR/storage",
  "IndexDirectory": "$DIR/storage",
  "HttpPort": $PORT,
  "DicomPort": 14242,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": true,
  "RegisteredUsers": { "$DEMO_USER": "$DEMO_PASSWORD" },
  "Plugins": ["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/", "EnableWado": false }
}
JSON
chmod 600 "$DIR/orthanc.json"

answers() { curl -fs -o /dev/null -u "$DEMO_USER:$DEMO_PASSWORD" "http://127.0.0.1:$PORT/system"; }
if ! answers; then
	nohup /usr/sbin/Orthanc "$DIR/orthanc.json" > "$DIR/orthanc.log" 2>&1 &
	tries=0
	until answers; do
		tries=$((tries + 1))
		if [ "$tries" -gt 200 ]; then
			echo "The demonstration PACS did not start (see $DIR/orthanc.log): the Imaging page will say the PACS cannot be reached."
			break
		fi
		sleep 0.1
	done
fi

# patient NHS number | study number | date | modality | description
STUDIES="9990000018 1 20250312 CT CT chest abdomen pelvis (staging)
9990000018 2 20260604 CT CT thorax (restaging)
9990000018 3 20261118 MR MR liver
9990000026 1 20260120 MG Mammogram
9990000026 2 20261002 CT CT thorax
9990000034 1 20261111 PT PET-CT skull base to thigh"
if answers; then
	work=$(mktemp -d)
	echo "$STUDIES" | while read -r nhs number date modality description; do
		uid="1.2.826.0.1.3680043.10.543.${nhs}.${number}"
		cat > "$work/study.txt" <<DUMP
(0008,0016) UI [1.2.840.10008.5.1.4.1.1.7]
(0008,0018) UI [$uid.1.1]
(0008,0020) DA [$date]
(0008,0030) TM [093000]
(0008,0050) SH [DEMO$nhs$number]
(0008,0060) CS [$modality]
(0008,0090) PN [ONCOLOGY^Olive^^Dr]
(0008,1030) LO [$description]
(0010,0020) LO [$nhs]
(0010,0021) LO [NHS]
(0020,000d) UI [$uid]
(0020,000e) UI [$uid.1]
(0020,0011) IS [1]
(0020,0013) IS [1]
DUMP
		dump2dcm --write-xfer-little "$work/study.txt" "$work/study.dcm"
		curl -fs -o /dev/null -u "$DEMO_USER:$DEMO_PASSWORD" --data-binary "@$work/study.dcm" "http://127.0.0.1:$PORT/instances"
	done
	rm -rf "$work"
	echo "Demonstration PACS: Orthanc on 127.0.0.1:$PORT with $(echo "$STUDIES" | wc -l) synthetic studies of demonstration patients (it keeps running; stop it with: pkill -f demo-pacs/orthanc.json)."
fi

cat > "$SETTINGS" <<TOML
# Written by scripts/demo-pacs.sh for make run: the demonstration PACS.
[pacs]
qido_url = "http://127.0.0.1:$PORT/dicom-web"
issuer_of_patient_id = "NHS"
credentials_file = "$DIR/credentials"

# Weasis opens only where it is installed (its weasis:// handler); otherwise the
# page says the viewer could not be opened.
[[pacs.viewers]]
name = "Weasis"
kind = "weasis"
TOML
