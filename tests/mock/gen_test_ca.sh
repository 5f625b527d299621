#!/bin/sh
# Generates the TLS material for the mock providers into DIR:
#   ca.pem ca.key              test CA ("threatmilter test CA")
#   server.pem server.key      signed by it for 127.0.0.1, ::1 and localhost
#   wrong.pem wrong.key        self-signed, other CN, same names: a client
#                              that verifies the chain must refuse it
#   mismatch.pem mismatch.key  signed by the test CA but for
#                              wrong-host.invalid only: a client that checks
#                              the host name must refuse it
# EC P-256 keys (fast). Idempotent: a complete, valid set is left alone;
# anything else is regenerated as a whole. -f forces regeneration.
# Usage: gen_test_ca.sh [-f] DIR
set -eu

force=no
if [ "${1:-}" = "-f" ]; then force=yes; shift; fi
dir=${1:?usage: gen_test_ca.sh [-f] DIR}
OPENSSL=${OPENSSL:-openssl}
files="ca.pem ca.key server.pem server.key wrong.pem wrong.key mismatch.pem mismatch.key"

mkdir -p "$dir"
cd "$dir"

same_key() {	# cert key: does the key belong to the certificate?
	[ "$("$OPENSSL" x509 -in "$1" -noout -pubkey 2>/dev/null)" = \
	  "$("$OPENSSL" pkey -in "$2" -pubout 2>/dev/null)" ]
}

complete() {
	for f in $files; do [ -s "$f" ] || return 1; done
	"$OPENSSL" verify -CAfile ca.pem server.pem mismatch.pem >/dev/null 2>&1 || return 1
	for c in ca server wrong mismatch; do
		same_key "$c.pem" "$c.key" || return 1
		# still valid for at least a day
		"$OPENSSL" x509 -in "$c.pem" -noout -checkend 86400 >/dev/null 2>&1 || return 1
	done
}

if [ "$force" = no ] && complete; then
	exit 0
fi

tmp=$(mktemp -d ".gen_test_ca.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

cat >"$tmp/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[wrong]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
subjectKeyIdentifier = hash
[mismatch]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong-host.invalid
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

newkey() {
	"$OPENSSL" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/$1.key" 2>/dev/null
}

selfsigned() {	# name CN extensions-section
	newkey "$1"
	"$OPENSSL" req -new -x509 -config "$tmp/openssl.cnf" -key "$tmp/$1.key" \
		-subj "/CN=$2" -days 3650 -extensions "$3" -out "$tmp/$1.pem"
}

signed() {	# name CN extensions-section: a certificate issued by the test CA
	newkey "$1"
	"$OPENSSL" req -new -config "$tmp/openssl.cnf" -key "$tmp/$1.key" \
		-subj "/CN=$2" -out "$tmp/$1.csr"
	"$OPENSSL" x509 -req -in "$tmp/$1.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
		-set_serial "0x$("$OPENSSL" rand -hex 8)" -days 825 \
		-extfile "$tmp/openssl.cnf" -extensions "$3" -out "$tmp/$1.pem" 2>/dev/null
}

selfsigned ca "threatmilter test CA" ca
signed server localhost server
selfsigned wrong "threatmilter wrong certificate" wrong
signed mismatch wrong-host.invalid mismatch

chmod 600 "$tmp"/*.key
chmod 644 "$tmp"/*.pem
for f in $files; do mv -f "$tmp/$f" "$f"; done
complete || { echo "gen_test_ca.sh: generated files do not verify" >&2; exit 1; }
