"""The sim's sh on its own: lexing, parsing, operators, `$?`, pipes, redirections (no phone, no adb)."""

from __future__ import annotations

import time

import pytest

from phone_agent.sim.adb.coreutils import COREUTILS
from phone_agent.sim.adb.fs import FileSystem
from phone_agent.sim.adb.lexer import Lit, Op, Redirect, ShellSyntaxError, Var, tokenize
from phone_agent.sim.adb.shell import CommandIO, Session
from phone_agent.sim.adb.stdin import Stdin
from phone_agent.sim.adb.syntax import parse


def argv_command(io: CommandIO, args: list[str]) -> int:
    """Print each argument on its own line, bracketed, so quoting is visible."""
    io.out("".join(f"[{arg}]\n" for arg in args))
    return 0


def shout_command(io: CommandIO, args: list[str]) -> int:
    """Write to stdout and stderr alternately."""
    io.out("out1\n")
    io.err("err1\n")
    io.out("out2\n")
    return int(args[0]) if args else 0


UNKNOWN: list[str] = []  # the unknown commands the last `run` met


def run(script: str, fs: FileSystem | None = None) -> tuple[int, list[tuple[int, bytes]], Session]:
    """Run a script; return its status, the (fd, data) writes in order and the session."""
    writes: list[tuple[int, bytes]] = []
    commands = {**COREUTILS, "argv": argv_command, "shout": shout_command}
    session = Session(None, commands, fs or FileSystem(), on_unknown=lambda name, argv: UNKNOWN.append(name))
    UNKNOWN.clear()
    status = session.run(script, lambda fd, data: writes.append((fd, data)))
    return status, writes, session


def stdout(writes: list[tuple[int, bytes]]) -> str:
    """Everything written to fd 1."""
    return b"".join(data for fd, data in writes if fd == 1).decode()


def test_quotes_escapes_and_variables_make_single_words() -> None:
    status, writes, _ = run("""argv 'a b' "c \\"d\\" $HOME" e\\ f '' "$?" x'y'"z" """)
    assert status == 0
    assert stdout(writes) == '[a b]\n[c "d" /]\n[e f]\n[]\n[0]\n[xyz]\n'


def test_tokens_keep_operators_redirections_and_variables() -> None:
    tokens = tokenize("echo $? && cat <in 2>&1 >>out | grep x; ls")
    assert Op("&&") in tokens and Op("|") in tokens and Op(";") in tokens
    assert Redirect(2, ">&", (Lit("1"),)) in tokens and Redirect(1, ">>", (Lit("out"),)) in tokens
    assert Redirect(0, "<", (Lit("in"),)) in tokens
    assert (Var("?"),) in tokens


@pytest.mark.parametrize("script", ["&& a", "a ||", "| b", "a && && b", "echo 'open", 'echo "open'])
def test_syntax_errors_exit_non_zero_with_a_message(script: str) -> None:
    with pytest.raises(ShellSyntaxError):
        parse(script)
    status, writes, _ = run(script)
    assert status != 0
    assert b"/system/bin/sh: syntax error" in b"".join(data for fd, data in writes if fd == 2)


@pytest.mark.parametrize(
    ("script", "expected", "status"),
    [
        ("echo a; false || echo b", "a\nb\n", 0),
        ("true && echo yes || echo no", "yes\n", 0),
        ("false && echo yes || echo no", "no\n", 0),
        ("false; echo $?", "1\n", 0),
        ("false || false", "", 1),
        ("echo a && exit 3; echo never", "a\n", 3),
        ("exit 300", "", 44),
        ("nosuch; echo $?", "127\n", 0),
        ("printf 'a\\nb\\nc\\n' | grep -v b", "a\nc\n", 0),
        ("echo Hello | grep -i hello", "Hello\n", 0),
        ("echo abc | grep -E 'x|b'", "abc\n", 0),
        ("echo 'a|b' | grep 'a|b'", "a|b\n", 0),
        ("echo abc | grep 'x\\|b'", "abc\n", 0),
        ("echo abc | grep -q z; echo $?", "1\n", 0),
        ("echo one two | wc -w", "2\n", 0),
        ("X=5; echo $X ${X}x", "5 5x\n", 0),
        ("echo a # a comment", "a\n", 0),
    ],
)
def test_operators_status_and_pipes(script: str, expected: str, status: int) -> None:
    got_status, writes, _ = run(script)
    assert (stdout(writes), got_status) == (expected, status)


def test_stdout_and_stderr_stay_in_time_order() -> None:
    status, writes, _ = run("shout 4")
    assert status == 4
    assert writes == [(1, b"out1\n"), (2, b"err1\n"), (1, b"out2\n")]


def test_2_to_1_merges_stderr_into_a_pipe_and_order_of_redirections_matters() -> None:
    _, writes, _ = run("shout 2>&1 | grep err")
    assert stdout(writes) == "err1\n"
    fs = FileSystem()
    _, writes, _ = run("shout > /sdcard/both 2>&1; shout 2>&1 > /sdcard/only_out", fs)
    assert fs.read("/sdcard/both") == b"out1\nerr1\nout2\n"
    assert fs.read("/sdcard/only_out") == b"out1\nout2\n"
    assert writes == [(1, b"err1\n")]


def test_redirections_write_append_and_read_files() -> None:
    fs = FileSystem()
    status, writes, _ = run("echo one > /sdcard/f; echo two >> /sdcard/f; cat < /sdcard/f; echo x 2>/dev/null", fs)
    assert status == 0
    assert stdout(writes) == "one\ntwo\nx\n"
    assert fs.read("/sdcard/f") == b"one\ntwo\n"


def test_redirection_to_a_read_only_place_fails_like_sh() -> None:
    status, writes, _ = run("echo hi > /system/x")
    assert status == 1
    assert writes == [(2, b"/system/bin/sh: can't create /system/x: Read-only file system\n")]


def test_unknown_command_is_127_with_androids_message_and_logged() -> None:
    status, writes, session = run("frobnicate --now")
    assert status == 127
    assert writes == [(2, b"/system/bin/sh: frobnicate: not found\n")]
    assert UNKNOWN == ["frobnicate"]


def test_file_commands() -> None:
    fs = FileSystem()
    script = ("mkdir -p /sdcard/a/b && touch /sdcard/a/b/c && ls /sdcard/a/b && rm /sdcard/a/b/c && "
              "ls /sdcard/a/b; rm /sdcard/nothing; echo $?; rm -f /sdcard/nothing; echo $?; rm -r /sdcard/a; "
              "ls /sdcard/a; echo $?")
    status, writes, _ = run(script, fs)
    assert stdout(writes) == "c\n1\n0\n1\n"
    errors = b"".join(data for fd, data in writes if fd == 2).decode()
    assert "rm: /sdcard/nothing: No such file or directory" in errors
    assert "ls: /sdcard/a: No such file or directory" in errors
    assert status == 0


def test_sha256sum_prints_toybox_lines_and_names_a_missing_file() -> None:
    status, writes, _ = run("echo -n abc > /sdcard/f; sha256sum /sdcard/f /sdcard/nothing; echo -n abc | sha256sum")
    abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert stdout(writes) == f"{abc}  /sdcard/f\n{abc}  -\n"
    assert b"sha256sum: /sdcard/nothing: No such file or directory" in b"".join(d for fd, d in writes if fd == 2)
    assert status == 0


def test_gzip_deflates_and_inflates_streams_and_files_like_toybox() -> None:
    fs = FileSystem()
    status, writes, _ = run("echo -n hello | gzip -1 | gzip -d; echo -n abc > /sdcard/f; gzip /sdcard/f; "
                            "ls /sdcard/f /sdcard/f.gz; gzip -dc /sdcard/f.gz", fs)
    assert stdout(writes) == "hello/sdcard/f.gz\nabc" and status == 0
    status, writes, _ = run("echo plain | gzip -d")
    assert status == 1 and b"gzip: -: not in gzip format" in b"".join(d for fd, d in writes if fd == 2)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("echo $(echo inner) `echo tick`", "inner tick\n"),
        ('argv "$(printf \'a b\')" $(printf \'c d\')', "[a b]\n[c]\n[d]\n"),
        ("X=$(echo one; echo two); echo \"$X\"", "one\ntwo\n"),
        ("echo '$(not run)' \"\\$(nor this)\"", "$(not run) $(nor this)\n"),
        ("echo $(echo $(echo nested))", "nested\n"),
        ("for i in 1 2 3; do echo -n $i; done; echo", "123\n"),
        ("printf 'a\\nb\\n' > /sdcard/l; while read L; do echo got $L; done < /sdcard/l", "got a\ngot b\n"),
        ("if [ -z \"\" ]; then echo empty; elif true; then echo no; else echo no; fi", "empty\n"),
        ("if false; then echo a; elif test 2 -gt 1; then echo b; fi", "b\n"),
        ("until true; do echo never; done; echo done", "done\n"),
        ("case hello.png in *.jpg) echo jpg;; *.png|*.gif) echo picture;; *) echo other;; esac", "picture\n"),
        ("[ a = a ] && [ 1 -ne 2 ] && ! [ -n '' ] && echo ok", "ok\n"),
        ("export A=1; sh -c 'echo $A $0 $1' zero one", "1 zero one\n"),
        ("which grep sh; which nothing-here; echo $?", "/system/bin/grep\n/system/bin/sh\n1\n"),
        ("command -v cat; command -v cd; type echo", "/system/bin/cat\ncd\necho is /system/bin/echo\n"),
        ("exec echo replaced; echo never", "replaced\n"),
        ("{ echo a; echo b; } | grep b; (X=inner); echo ${X:-unset}", "b\nunset\n"),
        ("set -- x y; echo $# $2 \"$@\"", "2 y x y\n"),
    ],
)
def test_substitutions_and_compound_commands(script: str, expected: str) -> None:
    status, writes, _ = run(script)
    assert stdout(writes) == expected, writes


def test_a_substitution_runs_the_command_it_names_so_an_unquoted_one_would_show() -> None:
    fs = FileSystem()
    _, writes, session = run("echo $(touch /sdcard/ran) `frobnicate`", fs)
    assert fs.stat("/sdcard/ran") is not None
    assert UNKNOWN == ["frobnicate"]


def test_background_job_is_killed_and_waited_for() -> None:
    start = time.monotonic()
    status, writes, session = run("sleep 30 & PID=$!; echo started $PID; kill -INT $PID; wait $PID; echo $?")
    assert time.monotonic() - start < 5
    assert stdout(writes).startswith("started 5") and stdout(writes).endswith("\n130\n")


def test_read_takes_one_line_of_stdin_at_a_time() -> None:
    writes: list[tuple[int, bytes]] = []
    session = Session(None, COREUTILS, FileSystem())
    status = session.run("read A B; read C; echo $B-$A-$C", lambda fd, data: writes.append((fd, data)),
                         Stdin(data=b"1 2 3\nnext\n"))
    assert (status, stdout(writes)) == (0, "2 3-1-next\n")
