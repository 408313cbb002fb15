"""sed, cut, tr, awk and pathname expansion on the virtual phone, through Google's adb binary."""

from __future__ import annotations

import pytest

from phone_agent.sim.testing import AdbServer, PhoneSession
from tests.sim.helpers import adb

PS = "USER PID PPID NAME\nroot 1 0 init\nshell 4242 1 sh\nu0_a12 3100 1 com.ebay.mobile\n"
PROPS = "ro.product.model=Pixel\nname=a=b\n"


def shell(server: AdbServer, session: PhoneSession, script: str) -> tuple[int, str, str]:
    """Run one `adb shell` script over files the tests share; (status, stdout, stderr)."""
    session.phone.system.fs.write("/sdcard/ps.txt", PS.encode())
    session.phone.system.fs.write("/sdcard/props", PROPS.encode())
    result = adb(server, session, "shell", script)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo hello world | sed 's/o/0/g'", "hell0 w0rld\n"),
        ("echo hello world | sed 's/o/0/2'", "hello w0rld\n"),
        ("echo hello world | sed 's/\\(h\\)\\(e\\)/[\\2\\1&]/'", "[ehhe]llo world\n"),
        ("echo hello world | sed -E 's/(\\w+) (\\w+)/\\2 \\1/'", "world hello\n"),
        ("echo 'a+b(c)' | sed 's/+b(/-/'", "a-c)\n"),
        ("echo HeLLo | sed 's/l/x/gI'", "Hexxo\n"),
        ("echo a/b/c | sed 's|/|:|g'", "a:b:c\n"),
        ("sed -n 2p /sdcard/ps.txt", "root 1 0 init\n"),
        ("sed -n '$p' /sdcard/ps.txt", "u0_a12 3100 1 com.ebay.mobile\n"),
        ("sed '1d;3,4d' /sdcard/ps.txt", "root 1 0 init\n"),
        ("sed 2q /sdcard/ps.txt | sed -n '/root/p'", "root 1 0 init\n"),
        ("sed '/sh$/!d' /sdcard/ps.txt", "shell 4242 1 sh\n"),
        ("sed -n -e 's/init/INIT/p' -e '/^shell/{p;=}' /sdcard/ps.txt", "root 1 0 INIT\nshell 4242 1 sh\n3\n"),
        ("printf x | sed s/x/y/", "y"),
        ("sed -i 's/Pixel/Sim/' /sdcard/props && cat /sdcard/props", "ro.product.model=Sim\nname=a=b\n"),
        ("echo a:b:c:d | cut -d: -f2", "b\n"),
        ("echo a:b:c:d | cut -d : -f1,3-", "a:c:d\n"),
        ("cut -d' ' -f-2 /sdcard/ps.txt | tail -n 1", "u0_a12 3100\n"),
        ("echo hello | cut -c2-4", "ell\n"),
        ("printf 'x\\na:b\\n' | cut -d: -f2", "x\nb\n"),
        ("printf 'x\\na:b\\n' | cut -s -d: -f2", "b\n"),
        ("echo hello | tr a-z A-Z", "HELLO\n"),
        ("echo Hello | tr '[:upper:][:lower:]' '[:lower:][:upper:]'", "hELLO\n"),
        ("echo hello | tr -d l", "heo\n"),
        ("echo 'a  b   c' | tr -s ' '", "a b c\n"),
        ("echo v1.2.3 | tr -cd '[:digit:]\\n'", "123\n"),
        ("echo a,b | tr , '\\n'", "a\nb\n"),
        ("ps_file=/sdcard/ps.txt; awk '{print $2}' $ps_file", "PID\n1\n4242\n3100\n"),
        ("cat /sdcard/ps.txt | awk '/ebay/{print $4}'", "com.ebay.mobile\n"),
        ("echo '  mCurrentFocus=Window{1a2b u0 com.ebay.mobile/.Main}' | awk '/mCurrentFocus/{print $3}'",
         "com.ebay.mobile/.Main}\n"),
        ("awk -F= '{print $2}' /sdcard/props", "Pixel\na\n"),
        ("awk -F= -v OFS=- '{$1 = $1; print}' /sdcard/props", "ro.product.model-Pixel\nname-a-b\n"),
        ("awk 'NR > 1 && $2 > 1000 {print $1, NF}' /sdcard/ps.txt", "shell 4\nu0_a12 4\n"),
        ("awk 'NR > 1 {total += $2} END {print total, NR}' /sdcard/ps.txt", "7343 4\n"),
        ("awk '{print $NF}' /sdcard/ps.txt | tail -n 1", "com.ebay.mobile\n"),
        ("awk 'BEGIN {printf \"%5.2f|%-3s|%d|%x%%\\n\", 3.14159, \"ab\", \"42abc\", 255}'", " 3.14|ab |42|ff%\n"),
        ("awk -v n=3 'BEGIN {for (i = 1; i <= n; i++) s = s i; print s, length(s), length(\"four\")}'",
         "123 3 4\n"),
        ("echo 'a b c' | awk '{print length, toupper($2), substr($0, 3, 3), $1 \"-\" $3}'", "5 B b c a-c\n"),
        ("echo 'foo bar foo' | awk '{n = gsub(/foo/, \"[&]\"); print n, $0}'", "2 [foo] bar [foo]\n"),
        ("printf '10 9\\n' | awk '{print ($1 > $2), (\"10\" > \"9\")}'", "1 0\n"),
        ("printf 'a\\nb\\na\\n' | awk '{seen[$1]++} END {for (k in seen) n++; print n, seen[\"a\"]}'", "2 2\n"),
        ("awk 'BEGIN {exit 3} END {print \"end\"}'; echo $?", "end\n3\n"),
    ],
)
def test_text_tools_in_pipes(adb_server: AdbServer, phone: PhoneSession, script: str, expected: str) -> None:
    status, out, err = shell(adb_server, phone, script)
    assert (out, err, status) == (expected, "", 0)


@pytest.mark.parametrize(
    ("script", "status", "error"),
    [
        ("sed", 1, "sed: no pattern\n"),
        ("echo x | sed 's/a'", 1, "sed: bad pattern 's/a'@4 ()\n"),
        ("echo x | sed k", 1, "sed: bad pattern 'k'@2 ()\n"),
        ("echo x | sed 's/\\(a/b/'", 1, "sed: bad regex '\\(a': "),
        ("echo x | sed 's/a/\\1/'", 1, "sed: no s//\\1/\n"),
        ("sed p /sdcard/none", 1, "sed: /sdcard/none: No such file or directory\n"),
        ("echo a | cut", 1, "cut: Needs -bcf\n"),
        ("echo a | cut -f 0", 1, "cut: bad list '0'\n"),
        ("echo a | cut -d ab -f 1", 1, "cut: -d 'ab' must be 1 character\n"),
        ("cut -f1 /sdcard/none", 1, "cut: /sdcard/none: No such file or directory\n"),
        ("echo a | tr", 1, "tr: Needs 1 argument\n"),
        ("echo a | tr a", 1, "tr: Needs 2 arguments\n"),
        ("awk", 1, "awk: no program\n"),
        ("awk '{print $1' /sdcard/ps.txt", 2, "awk: syntax error at end of program\n"),
        ("awk '{print}' /sdcard/none", 2, "awk: /sdcard/none: No such file or directory\n"),
        ("awk 'BEGIN {print 1 / 0}'", 2, "awk: division by zero\n"),
    ],
)
def test_text_tool_errors(adb_server: AdbServer, phone: PhoneSession, script: str, status: int,
                          error: str) -> None:
    got_status, out, err = shell(adb_server, phone, script)
    assert (got_status, out) == (status, "")
    assert err.startswith(error)


def test_globs_expand_against_the_phones_files(adb_server: AdbServer, phone: PhoneSession) -> None:
    fs = phone.phone.system.fs
    for name in ("b.png", "a.png", "c.txt", ".hidden.png"):
        fs.write(f"/sdcard/Pictures/{name}", b"x")
    for name in ("one.jar", "two.jar", "keep.dex"):
        fs.write(f"/data/local/tmp/{name}", b"x")
    script = ("ls /sdcard/Pictures/*.png; echo '/sdcard/Pictures/*.png' \"/sdcard/Pictures/\"?.txt; "
              "echo /sdcard/Pictures/*.jpg; cd /sdcard/Pictures && echo [bc].* ../Pict*/; "
              "for f in /sdcard/Pictures/.*; do echo $f; done; rm /data/local/tmp/*.jar && ls /data/local/tmp")
    status, out, err = shell(adb_server, phone, script)
    assert (status, err) == (0, "")
    assert out.splitlines() == [
        "/sdcard/Pictures/a.png", "/sdcard/Pictures/b.png",
        "/sdcard/Pictures/*.png /sdcard/Pictures/c.txt",
        "/sdcard/Pictures/*.jpg",
        "b.png c.txt ../Pictures/",
        "/sdcard/Pictures/.hidden.png",
        "keep.dex",
    ]
