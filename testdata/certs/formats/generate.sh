#!/bin/sh
# Regenerates the keystores, PKCS#12 archives and CRLs that pkg/certs
# tests read, with the tools users make them with: keytool (Debian's
# default-jre-headless) and openssl. The certificates are valid for 100
# years, so the files never expire under a test; commit what this writes.
# Run from this directory: sh generate.sh
set -eu
cd "$(dirname "$0")"
rm -f ./*.pem ./*.der ./*.p12 ./*.jks ./*.jceks ./*.srl ./*.cnf
days=36500
cat > ca.cnf <<'CNF'
[ca]
default_ca = ca
[ca_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
CNF
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key.pem -subj /CN=formats-ca -days $days -out ca.pem -extensions ca_ext -config ca.cnf 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout leaf.key.pem -subj /CN=formats-leaf -out leaf.csr.pem 2>/dev/null
openssl x509 -req -in leaf.csr.pem -CA ca.pem -CAkey ca.key.pem -CAcreateserial -days $days -out leaf.pem 2>/dev/null
rm -f leaf.csr.pem ./*.srl

# PKCS#12: certificates only with a password, and without a MAC.
openssl pkcs12 -export -nokeys -in leaf.pem -certfile ca.pem -passout pass:secret -out certs-only.p12
openssl pkcs12 -export -nokeys -in leaf.pem -certfile ca.pem -passout pass:secret -legacy -out certs-only-legacy.p12
openssl pkcs12 -export -nokeys -in leaf.pem -passout pass:secret -certpbe PBE-SHA1-3DES -macalg sha1 -out certs-only-3des.p12
openssl pkcs12 -export -inkey leaf.key.pem -in leaf.pem -certfile ca.pem -nomac -keypbe NONE -certpbe NONE -passout pass: -out nomac.p12
openssl pkcs12 -export -inkey leaf.key.pem -in leaf.pem -certfile ca.pem -nomac -passout pass:secret -out nomac-encrypted.p12

# Java: a keystore (key and chain) and a truststore (the CA), JKS and JCEKS.
for t in jks jceks; do
	openssl pkcs12 -export -inkey leaf.key.pem -in leaf.pem -certfile ca.pem -name leaf -passout pass:changeit -out tmp.p12
	keytool -importkeystore -noprompt -srckeystore tmp.p12 -srcstoretype PKCS12 -srcstorepass changeit \
		-destkeystore keystore.$t -deststoretype $t -deststorepass changeit -destkeypass changeit 2>/dev/null
	keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.$t -storetype $t -storepass changeit 2>/dev/null
	rm -f tmp.p12
done
# A JCEKS holding a secret key next to a certificate.
cp truststore.jceks secret.jceks
keytool -genseckey -alias aes -keyalg AES -keysize 128 -keystore secret.jceks -storetype jceks -storepass changeit -keypass changeit 2>/dev/null

# CRLs: PEM and DER, next update in 100 years.
mkdir -p ca.d/newcerts && : > ca.d/index.txt && echo 01 > ca.d/crlnumber
cat >> ca.cnf <<CNF
[ca_dir]
database = ca.d/index.txt
crlnumber = ca.d/crlnumber
default_md = sha256
default_crl_days = $days
CNF
openssl ca -gencrl -name ca_dir -config ca.cnf -keyfile ca.key.pem -cert ca.pem -out crl.pem 2>/dev/null
openssl crl -in crl.pem -outform DER -out crl.der
rm -rf ca.d ca.cnf ca.key.pem leaf.key.pem
chmod 644 ./*.p12
