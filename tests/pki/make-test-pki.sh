#!/usr/bin/env bash
# make-test-pki.sh OUTDIR: the throw-away PKI the TLS tests use, with MediaProxy's fixed file names
# (ca.pem, crl.pem, <role>.crt/.key) plus negative material (expired, revoked, other CA, wrong
# subject). EC P-256 keys and the openssl CLI only, so it runs in about a second. Idempotent: OUTDIR
# is rebuilt from scratch on every run (see tests/pki/README.md for the list of files).
set -Eeuo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
outdir=$1
marker=.mpx-test-pki

# OUTDIR is replaced wholesale; refuse to wipe a directory this script did not make.
if [[ -e "$outdir" && ! -d "$outdir" ]]; then
  echo "$0: $outdir exists and is not a directory" >&2
  exit 1
fi
if [[ -d "$outdir" && -n "$(ls -A "$outdir")" && ! -e "$outdir/$marker" ]]; then
  echo "$0: $outdir is not empty and was not made by this script; refusing to replace it" >&2
  exit 1
fi

mkdir -p "$(dirname "$outdir")"
stage=$(mktemp -d "${outdir%/}.staging.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# openssl's chatter goes to a log (stderr kept on fd 3) that is shown only when a step fails.
log=$stage/.openssl.log
exec 3>&2 2>>"$log"
trap '{ echo "$0: failed at line $LINENO; last openssl output:"; tail -n 15 "$log"; } >&3' ERR
work=$stage/.ca   # openssl ca's database, serials and config; removed before publishing
mkdir -p "$work/newcerts"
: >"$work/index.txt"
echo 1000 >"$work/serial"
echo 1000 >"$work/crlnumber"
echo "unique_subject = no" >"$work/index.txt.attr"

cat >"$work/ca.cnf" <<EOF
[ ca ]
default_ca = test_ca

[ test_ca ]
dir              = $work
database         = \$dir/index.txt
new_certs_dir    = \$dir/newcerts
serial           = \$dir/serial
crlnumber        = \$dir/crlnumber
certificate      = $stage/ca.pem
private_key      = $stage/ca.key
default_md       = sha256
default_days     = 3650
default_crl_days = 3650
policy           = policy_any
preserve         = yes
unique_subject   = no
copy_extensions  = none
x509_extensions  = leaf_ext
crl_extensions   = crl_ext

[ policy_any ]
countryName            = optional
stateOrProvinceName    = optional
localityName           = optional
organizationName       = optional
organizationalUnitName = optional
commonName             = supplied
emailAddress           = optional

[ req ]
distinguished_name = req_dn
prompt             = no

[ req_dn ]
CN = unused

[ ca_ext ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# Every leaf may act as TLS server and client: the dispatcher serves relays and management
# clients, the relay is a client, and the tests also swap roles.
[ leaf_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth, clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF

base="/C=NL/ST=Noord-Holland/L=Amsterdam/O=mpx test"

new_key() {  # new_key FILE
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
  chmod 600 "$1"
}

new_ca() {  # new_ca NAME SUBJECT: self-signed CA NAME.pem + NAME.key in the stage
  new_key "$stage/$1.key"
  openssl req -new -x509 -config "$work/ca.cnf" -extensions ca_ext -key "$stage/$1.key" \
    -subj "$2" -days 3650 -sha256 -out "$stage/$1.pem"
}

# issue NAME SUBJECT [openssl ca options...]: NAME.crt + NAME.key signed by the test CA.
issue() {
  local name=$1 subject=$2
  shift 2
  new_key "$stage/$name.key"
  openssl req -new -config "$work/ca.cnf" -key "$stage/$name.key" -subj "$subject" \
    -out "$work/$name.csr"
  openssl ca -batch -notext -config "$work/ca.cnf" -in "$work/$name.csr" -out "$stage/$name.crt" \
    "$@"
}

new_ca ca "$base/OU=certificate authority/CN=mpx test CA/emailAddress=ca@mpx.test"

issue dispatcher "$base/OU=dispatchers/CN=dispatcher1.mpx.test/emailAddress=ops@mpx.test"
issue relay "$base/OU=relays/CN=relay1.mpx.test/emailAddress=ops@mpx.test"
issue management "$base/OU=management/CN=mpxctl.mpx.test/emailAddress=admin@mpx.test"
issue expired "$base/OU=relays/CN=expired.mpx.test/emailAddress=ops@mpx.test" \
  -startdate 20200101000000Z -enddate 20210101000000Z
issue revoked "$base/OU=relays/CN=revoked.mpx.test/emailAddress=ops@mpx.test"
# Same CA, every attribute different from the others; O carries a comma for the \, escape.
intruder="/C=DE/ST=Berlin/L=Berlin/O=Intruder, Inc./OU=intruders/CN=intruder.example.org"
issue wrong-subject "$intruder/emailAddress=intruder@example.org"

# crl.pem revokes revoked.crt; crl-revoking-relay.pem additionally revokes relay.crt (for the tests
# that revoke a connected peer by replacing crl.pem on disk).
openssl ca -batch -config "$work/ca.cnf" -revoke "$stage/revoked.crt" -crl_reason keyCompromise \
 
# The CRLs span 2020..2060, wider than any certificate, so a test that moves the clock beyond a
# certificate's validity sees the certificate's error and not the CRL's.
openssl ca -batch -config "$work/ca.cnf" -gencrl -crl_lastupdate 20200101000000Z \
  -crl_nextupdate 20600101000000Z -out "$stage/crl.pem"
openssl ca -batch -config "$work/ca.cnf" -revoke "$stage/relay.crt" -crl_reason superseded \
 
openssl ca -batch -config "$work/ca.cnf" -gencrl -crl_lastupdate 20210101000000Z \
  -crl_nextupdate 20600101000000Z -out "$stage/crl-revoking-relay.pem"
# A CRL of the right CA whose validity ended in 2021 (a stale CRL must be a clear setup error).
openssl ca -batch -config "$work/ca.cnf" -gencrl -crl_lastupdate 20200101000000Z \
  -crl_nextupdate 20210101000000Z -out "$stage/crl-expired.pem"

# A different CA; other.crt imitates a relay subject so only the chain check can reject it.
new_ca other-ca "/C=NL/ST=Noord-Holland/L=Amsterdam/O=other test/OU=other ca/CN=other test CA"
new_key "$stage/other.key"
openssl req -new -config "$work/ca.cnf" -key "$stage/other.key" \
  -subj "$base/OU=relays/CN=relay1.mpx.test/emailAddress=ops@mpx.test" -out "$work/other.csr"
openssl x509 -req -in "$work/other.csr" -CA "$stage/other-ca.pem" -CAkey "$stage/other-ca.key" \
  -CAcreateserial -CAserial "$work/other-ca.srl" -days 3650 -sha256 \
  -extfile "$work/ca.cnf" -extensions leaf_ext -out "$stage/other.crt"

# A well-formed CRL signed by the other CA: not acceptable as crl.pem next to ca.pem.
openssl ca -batch -config "$work/ca.cnf" -gencrl -cert "$stage/other-ca.pem" \
  -keyfile "$stage/other-ca.key" -out "$stage/crl-other-ca.pem"

exec 2>&3
rm -rf "$work" "$log"
touch "$stage/$marker"
chmod 755 "$stage"

rm -rf "$outdir"
mv "$stage" "$outdir"
trap - EXIT
