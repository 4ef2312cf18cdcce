#!/usr/bin/env python3
"""Generates the hostile-message corpus of the DM server (issue 6: at least 100 malformed or
hostile messages). Run from this directory: `python3 gen.py` (needs `omadm` on PATH or
OMADM=path for the WBXML variants). Each file is one HTTP body sent to POST /dm for the device
IMEI:490154203237518 (enrolled with basic auth dev1/dev-secret by the test) or for nobody."""
import base64, hashlib, os, subprocess, sys

DEV = "IMEI:490154203237518"
OUT = os.path.dirname(os.path.abspath(__file__))
NS = "SYNCML:SYNCML1.2"
BASIC = base64.b64encode(b"dev1:dev-secret").decode()

def cred(kind="basic", data=None):
    if kind is None:
        return ""
    t = {"basic": "syncml:auth-basic", "md5": "syncml:auth-md5"}.get(kind, kind)
    d = data if data is not None else BASIC
    return f'<Cred><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">{t}</Type></Meta><Data>{d}</Data></Cred>'

def hdr(session="1", msg="1", source=DEV, target="http://127.0.0.1/dm", ver="DM/1.2", c=None, extra="", ns_ok=True, meta=True):
    c = cred() if c is None else c
    m = '<Meta><MaxMsgSize xmlns="syncml:metinf">20000</MaxMsgSize></Meta>' if meta else ""
    return (f"<SyncHdr><VerDTD>1.2</VerDTD><VerProto>{ver}</VerProto><SessionID>{session}</SessionID>"
            f"<MsgID>{msg}</MsgID><Target><LocURI>{target}</LocURI></Target><Source><LocURI>{source}</LocURI></Source>{c}{m}{extra}</SyncHdr>")

def pkg1_body(alert="1201"):
    return (f"<Alert><CmdID>1</CmdID><Data>{alert}</Data></Alert>"
            f"<Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Data>{DEV}</Data></Item>"
            f"<Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>omadm</Data></Item></Replace>")

def msg(body, h=None, ns=NS, final=True):
    h = hdr() if h is None else h
    f = "<Final/>" if final else ""
    nsattr = f' xmlns="{ns}"' if ns is not None else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><SyncML{nsattr}>{h}<SyncBody>{body}{f}</SyncBody></SyncML>'

files = {}
def put(name, text):
    data = text.encode() if isinstance(text, str) else text
    files[name] = data

good = msg(pkg1_body())
# 1. truncations of a valid package #1 (20)
for i, cut in enumerate(range(10, len(good), max(1, len(good) // 20))):
    if i >= 20: break
    put(f"truncated_{i:02}.xml", good[:cut])
# 2. namespaces (6)
for i, ns in enumerate([None, "SYNCML:SYNCML9.9", "urn:example", "", "syncml:syncml1.2", "SYNCML:SYNCML1.1 "]):
    put(f"namespace_{i}.xml", msg(pkg1_body(), ns=ns))
# 3. deep nesting (6)
for i, depth in enumerate([50, 200, 1000]):
    inner = "<Get><CmdID>99</CmdID><Item><Target><LocURI>./A</LocURI></Target></Item></Get>"
    body = inner
    for d in range(depth):
        body = f"<Sequence><CmdID>{d+10}</CmdID>{body}</Sequence>"
    put(f"deep_sequence_{i}.xml", msg(pkg1_body() + body))
for i, depth in enumerate([1000, 5000, 10000]):
    put(f"deep_elements_{i}.xml", msg(pkg1_body() + "<Item>" * depth + "</Item>" * depth))
# 4. unknown commands and elements (6)
put("unknown_command.xml", msg(pkg1_body() + "<Frobnicate><CmdID>3</CmdID></Frobnicate>"))
put("unknown_element_in_hdr.xml", msg(pkg1_body(), h=hdr(extra="<Bogus>1</Bogus>")))
put("unknown_element_in_item.xml", msg(pkg1_body() + "<Alert><CmdID>3</CmdID><Data>1226</Data><Item><Zap/></Item></Alert>"))
put("sync_command.xml", msg(pkg1_body() + "<Sync><CmdID>3</CmdID></Sync>"))
put("map_command.xml", msg(pkg1_body() + "<Map><CmdID>3</CmdID></Map>"))
put("put_command.xml", msg(pkg1_body() + "<Put><CmdID>3</CmdID></Put>"))
# 5. duplicate CmdIDs (4)
put("duplicate_cmdid_1.xml", msg("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Replace><CmdID>1</CmdID><Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>x</Data></Item></Replace>"))
put("duplicate_cmdid_2.xml", msg(pkg1_body() + "<Alert><CmdID>2</CmdID><Data>1226</Data><Item><Meta><Type xmlns=\"syncml:metinf\">x.y</Type></Meta><Data>1</Data></Item></Alert>"))
put("duplicate_cmdid_3.xml", msg(pkg1_body() + "".join(f"<Alert><CmdID>5</CmdID><Data>1226</Data></Alert>" for _ in range(50))))
put("cmdid_zero.xml", msg("<Alert><CmdID>0</CmdID><Data>1201</Data></Alert>"))
# 6. wrong MsgRef / CmdRef on statuses (6)
for i, (mr, cr) in enumerate([("7", "1"), ("0", "0"), ("x", "1"), ("1", "999"), ("-1", "1"), ("99999999999999999999", "1")]):
    put(f"status_bad_ref_{i}.xml", msg(pkg1_body() + f"<Status><CmdID>3</CmdID><MsgRef>{mr}</MsgRef><CmdRef>{cr}</CmdRef><Cmd>Get</Cmd><Data>200</Data></Status>"))
# 7. bad credentials (10)
put("cred_wrong_password.xml", msg(pkg1_body(), h=hdr(c=cred("basic", base64.b64encode(b"dev1:nope").decode()))))
put("cred_wrong_user.xml", msg(pkg1_body(), h=hdr(c=cred("basic", base64.b64encode(b"eve:dev-secret").decode()))))
put("cred_not_base64.xml", msg(pkg1_body(), h=hdr(c=cred("basic", "!!!not base64!!!"))))
put("cred_no_colon.xml", msg(pkg1_body(), h=hdr(c=cred("basic", base64.b64encode(b"dev1dev-secret").decode()))))
put("cred_empty.xml", msg(pkg1_body(), h=hdr(c=cred("basic", ""))))
put("cred_unknown_type.xml", msg(pkg1_body(), h=hdr(c=cred("syncml:auth-kerberos"))))
put("cred_md5_garbage.xml", msg(pkg1_body(), h=hdr(c=cred("md5", base64.b64encode(b"0123456789abcdef").decode()))))
put("cred_missing.xml", msg(pkg1_body(), h=hdr(c="")))
put("cred_huge.xml", msg(pkg1_body(), h=hdr(c=cred("basic", "A" * 100000))))
# Cred without Meta: the Type defaults to syncml:auth-basic (SyncML RepPro), so this one authenticates.
put("basic_cred_without_meta.xml", msg(pkg1_body(), h=hdr(c=f"<Cred><Data>{BASIC}</Data></Cred>")))
# 8. replayed nonces: MD5 digests over nonces the server never issued or issued long ago (3)
def md5cred(user, pw, nonce):
    a = base64.b64encode(hashlib.md5(f"{user}:{pw}".encode()).digest()).decode()
    return base64.b64encode(hashlib.md5(f"{a}:".encode() + nonce).digest()).decode()
for i, n in enumerate([b"", b"old-nonce", b"\x00" * 16]):
    put(f"replayed_nonce_{i}.xml", msg(pkg1_body(), h=hdr(c=cred("md5", md5cred("dev1", "dev-secret", n)))))
# 9. oversize (4)
put("oversize_data.xml", msg(pkg1_body() + f"<Alert><CmdID>3</CmdID><Data>1226</Data><Item><Meta><Type xmlns=\"syncml:metinf\">a.b</Type><Format xmlns=\"syncml:metinf\">chr</Format></Meta><Data>{'x' * 200000}</Data></Item></Alert>"))
put("many_items.xml", msg("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Replace><CmdID>2</CmdID>" + "<Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>x</Data></Item>" * 3000 + "</Replace>"))
put("many_commands.xml", msg(pkg1_body() + "".join(f"<Alert><CmdID>{i}</CmdID><Data>1224</Data></Alert>" for i in range(3, 4000))))
put("long_locuri.xml", msg(pkg1_body() + f"<Alert><CmdID>3</CmdID><Data>1226</Data><Item><Source><LocURI>./{'a/' * 20000}</LocURI></Source><Data>1</Data></Item></Alert>"))
# 10. garbage (10)
put("empty.xml", b"")
put("garbage.bin", bytes(range(256)) * 4)
put("bom_only.xml", b"\xef\xbb\xbf")
put("not_xml.xml", "hello, DM server")
put("html.xml", "<html><body>hi</body></html>")
put("billion_laughs.xml", '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' + msg(pkg1_body()).split("?>", 1)[1].replace("<Data>omadm</Data>", "<Data>&lol3;</Data>"))
put("external_entity.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + msg(pkg1_body()).split("?>", 1)[1].replace("<Data>omadm</Data>", "<Data>&xxe;</Data>"))
put("two_roots.xml", msg(pkg1_body()) + msg(pkg1_body()).split("?>", 1)[1])
put("utf16.xml", msg(pkg1_body()).replace("UTF-8", "UTF-16").encode("utf-16"))
put("invalid_utf8.xml", msg(pkg1_body()).encode().replace(b"omadm", b"om\xff\xfedm"))
# 11. missing or broken SyncHdr parts (10)
h = hdr()
for name, part in [("no_sessionid", "<SessionID>1</SessionID>"), ("no_msgid", "<MsgID>1</MsgID>"),
                   ("no_source", f"<Source><LocURI>{DEV}</LocURI></Source>"), ("no_target", "<Target><LocURI>http://127.0.0.1/dm</LocURI></Target>"),
                   ("no_verproto", "<VerProto>DM/1.2</VerProto>"), ("no_verdtd", "<VerDTD>1.2</VerDTD>")]:
    put(f"hdr_{name}.xml", msg(pkg1_body(), h=h.replace(part, "")))
put("hdr_missing.xml", msg(pkg1_body(), h=""))
put("body_missing.xml", f'<SyncML xmlns="{NS}">{hdr()}</SyncML>')
put("verproto_9.xml", msg(pkg1_body(), h=hdr(ver="DM/9.9")))
put("verproto_garbage.xml", msg(pkg1_body(), h=hdr(ver="<>")).replace("&lt;&gt;", "x"))
# 12. MsgID / SessionID values (6)
for i, (s, m) in enumerate([("1", "abc"), ("1", "-5"), ("1", "0"), ("1", "4294967296000"), ("Z" * 300, "1"), ("", "1")]):
    put(f"ids_{i}.xml", msg(pkg1_body(), h=hdr(session=s, msg=m)))
# 13. unknown device and hostile sources (5)
put("unknown_device.xml", msg(pkg1_body(), h=hdr(source="IMEI:000000000000000")))
put("source_empty.xml", msg(pkg1_body(), h=hdr(source="")))
put("source_sql.xml", msg(pkg1_body(), h=hdr(source="x' OR '1'='1")))
put("source_long.xml", msg(pkg1_body(), h=hdr(source="I" * 100000)))
put("source_nul.xml", msg(pkg1_body(), h=hdr(source="IMEI:1&#0;2")))
# 14. alerts and statuses out of place (8)
put("alert_no_code.xml", msg("<Alert><CmdID>1</CmdID></Alert>"))
put("alert_bad_code.xml", msg("<Alert><CmdID>1</CmdID><Data>abc</Data></Alert>"))
put("alert_1226_no_item.xml", msg(pkg1_body() + "<Alert><CmdID>3</CmdID><Data>1226</Data></Alert>"))
put("alert_1226_bad_type.xml", msg(pkg1_body() + "<Alert><CmdID>3</CmdID><Data>1226</Data><Item><Meta><Type xmlns=\"syncml:metinf\">not a type!</Type></Meta><Data>x</Data></Item></Alert>"))
put("alert_1222_first.xml", msg("<Alert><CmdID>1</CmdID><Data>1222</Data></Alert>"))
put("alert_1223_first.xml", msg("<Alert><CmdID>1</CmdID><Data>1223</Data></Alert>"))
put("results_unsolicited.xml", msg(pkg1_body() + "<Results><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>5</CmdRef><Item><Source><LocURI>./X</LocURI></Source><Data>1</Data></Item></Results>"))
put("status_no_data.xml", msg(pkg1_body() + "<Status><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd></Status>"))
# 15. commands a client must not send to a server (5)
for i, c in enumerate(["Add", "Delete", "Get", "Exec", "Copy"]):
    put(f"client_sends_{c.lower()}.xml", msg(pkg1_body() + f"<{c}><CmdID>3</CmdID><Item><Target><LocURI>./A</LocURI></Target></Item></{c}>"))
# 16. a later message of an unknown session, no Final, chunk without Size (4)
put("later_message_unknown_session.xml", msg("<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>", h=hdr(session="77", msg="3")))
put("no_final.xml", msg(pkg1_body(), final=False))
put("moredata_without_size.xml", msg(pkg1_body() + "<Results><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>3</CmdRef><Item><Source><LocURI>./A</LocURI></Source><Data>1</Data><MoreData/></Item></Results>"))
put("final_twice.xml", msg(pkg1_body() + "<Final/>"))

# WBXML variants: our encoding of a good message, then mutated (12)
omadm = os.environ.get("OMADM", "omadm")
try:
    wb = subprocess.run([omadm, "convert", "-", "--to", "wbxml"], input=good.encode(), capture_output=True, check=True).stdout
except Exception as e:  # the corpus is committed; regenerating needs the binary
    sys.exit(f"cannot run {omadm} convert: {e}")
for i, cut in enumerate([1, 3, 5, 10, len(wb) // 3, len(wb) // 2, len(wb) - 1]):
    put(f"wbxml_truncated_{i}.wbxml", wb[:cut])
put("wbxml_bad_version.wbxml", b"\x09" + wb[1:])
put("wbxml_bad_strtbl_len.wbxml", wb[:3] + b"\xff\xff\xff\x7f" + wb[4:])
put("wbxml_flipped.wbxml", bytes(b ^ 0x5a if i % 7 == 3 else b for i, b in enumerate(wb)))
put("wbxml_unknown_tokens.wbxml", wb[:6] + b"\x3f\x3e\x3d" + wb[6:])
put("wbxml_endless_end.wbxml", wb + b"\x01" * 1000)

for name, data in files.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"{len(files)} files")
