#!/bin/sh
# SPDX-License-Identifier: MIT OR Apache-2.0
# Makes every certificate the TLS tests need in $1, fresh on each run, so nothing in the
# repository can expire. Quiet on success; on failure prints openssl's output and exits non-zero.
set -eu
dir=$1
cd "$dir"
log=$dir/make-certs.log
: >"$log"
q() { "$@" >>"$log" 2>&1 || { cat "$log" >&2; exit 1; }; }

# The CA, plus a minimal `openssl ca` setup: only `ca` can set arbitrary start/end dates.
q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 -subj "/CN=socketcap Test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
mkdir -p ca.db
: >ca.db/index.txt
echo 1000 >ca.db/serial
cat >ca.cnf <<CNF
[ca]
default_ca = test_ca
[test_ca]
dir = $dir/ca.db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[srv]
basicConstraints = CA:FALSE
subjectAltName = DNS:localhost,IP:127.0.0.1
extendedKeyUsage = serverAuth
[wrong]
basicConstraints = CA:FALSE
subjectAltName = DNS:wrong.example
extendedKeyUsage = serverAuth
[cli]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
CNF

# sign NAME CN EXTENSIONS [openssl ca date options...]
sign() {
  name=$1 cn=$2 ext=$3
  shift 3
  q openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn"
  q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in "$name.csr" -out "$name.pem" \
    -extensions "$ext" -notext "$@"
}
sign server localhost srv -days 825
sign wrongname wrong.example wrong -days 825
sign expired localhost srv -startdate 20200101000000Z -enddate 20210101000000Z
sign notyet localhost srv -startdate 20990101000000Z -enddate 21000101000000Z
sign client "socketcap test client" cli -days 825
sign other "socketcap other client" cli -days 825

# A self-signed server (its own issuer, not signed by the test CA).
q openssl req -x509 -newkey rsa:2048 -nodes -keyout selfsigned.key -out selfsigned.pem -days 825 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"

# The client key, encrypted (PKCS#8, AES-256-CBC); and a key of another client (mismatch).
q openssl pkcs8 -topk8 -v2 aes-256-cbc -in client.key -out client-encrypted.key -passout pass:test-passphrase
cp other.key mismatched.key
# The same key in the traditional formats: PKCS#1, and PKCS#1 with PEM encryption (Proc-Type).
q openssl pkey -in client.key -traditional -out client-pkcs1.key
q openssl rsa -in client.key -traditional -aes256 -passout pass:test-passphrase -out client-legacy-encrypted.key
# An EC client: P-256 key in SEC1 form ("EC PRIVATE KEY").
q openssl ecparam -name prime256v1 -genkey -noout -out client-ec.key
q openssl req -new -key client-ec.key -out client-ec.csr -subj "/CN=socketcap ec client"
q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in client-ec.csr -out client-ec.pem -extensions cli \
  -notext -days 825
# A client of every other key type wolfSSL loads (P-384, Ed25519, Ed448; PKCS#8 keys), and for
# each type a second key of the same type and curve: the mismatch the pairing check must catch.
# sign_key NAME CN: a certificate for the existing NAME.key.
sign_key() {
  q openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2"
  q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in "$1.csr" -out "$1.pem" -extensions cli \
    -notext -days 825
}
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out client-p384.key
sign_key client-p384 "socketcap p384 client"
q openssl genpkey -algorithm ED25519 -out client-ed25519.key
sign_key client-ed25519 "socketcap ed25519 client"
q openssl genpkey -algorithm ED448 -out client-ed448.key
sign_key client-ed448 "socketcap ed448 client"
q openssl ecparam -name prime256v1 -genkey -noout -out other-ec.key
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out other-p384.key
q openssl genpkey -algorithm ED25519 -out other-ed25519.key
q openssl genpkey -algorithm ED448 -out other-ed448.key

# Garbage that merely looks like PEM.
printf -- '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n' >garbage.pem
