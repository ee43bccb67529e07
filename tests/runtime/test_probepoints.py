"""Where uprobes go: the first instruction the kernel emulates, unless something before it matters."""

from __future__ import annotations

from pathlib import Path

import pytest

from assess.sources.runtime.libraries import find_libssl
from assess.sources.runtime.probepoints import choose, function_code, is_emulated, probe_point

# Machine code as OpenSSL 3.0 (Debian 12) starts these functions.
SSL_GET_ERROR = bytes.fromhex("31c0" "85f6" "7e0a" "c3")  # xor eax,eax; test esi,esi; jle +10; ret
SSL_FREE = bytes.fromhex("4885ff" "7405" "4155" "c3" "90" "90" "90" "90" "c3")  # test rdi,rdi; je; push r13
SSL_DO_HANDSHAKE = bytes.fromhex("53" "4883ec30" "c3")  # push rbx; sub rsp,0x30; ret
SSL_READ = bytes.fromhex("4883ec18" "85d2" "7805" "c3")  # sub rsp,0x18; test edx,edx; js; ret
ENDBR_THEN_PUSH = bytes.fromhex("f30f1efa" "55" "c3")  # endbr64; push rbp; ret


@pytest.mark.parametrize(
    ("code", "emulated"),
    [
        ("53", True), ("4155", True), ("90", True), ("0f1f440000", True), ("660f1f440000", True),
        ("e800000000", True), ("eb05", True), ("7e0a", True), ("0f8e00010000", True),
        ("31c0", False), ("4885ff", False), ("4883ec18", False), ("f30f1efa", False), ("c3", False),
        ("4855", False),  # push with REX.W: the kernel only emulates the REX.B form
    ],
)
def test_is_emulated_matches_the_kernels_list(code: str, emulated: bool) -> None:
    assert is_emulated(bytes.fromhex(code)) is emulated


def test_an_emulated_entry_stays_at_the_entry() -> None:
    point = choose(SSL_DO_HANDSHAKE, args=1, return_probe=True)
    assert (point.offset, point.emulated, point.instruction) == (0, True, "push rbx")


def test_get_error_moves_past_instructions_that_touch_neither_its_argument_nor_the_stack() -> None:
    point = choose(SSL_GET_ERROR, args=1, return_probe=True)
    assert (point.offset, point.emulated) == (4, True)
    assert point.instruction.startswith("jle")


def test_free_moves_to_its_first_conditional_jump() -> None:
    point = choose(SSL_FREE, args=1, return_probe=False)
    assert (point.offset, point.instruction) == (3, "je 0xa")


def test_a_return_probe_keeps_the_entry_when_the_stack_pointer_moves_first() -> None:
    point = choose(SSL_READ, args=1, return_probe=True)
    assert (point.offset, point.emulated) == (0, False)
    assert "rsp" in point.reason


def test_without_a_return_probe_the_stack_pointer_may_move() -> None:
    assert choose(SSL_READ, args=1, return_probe=False).offset == 6


def test_a_needed_argument_register_that_is_overwritten_keeps_the_entry() -> None:
    code = bytes.fromhex("31f6" "7e0a" "c3")  # xor esi,esi; jle; ret
    assert choose(code, args=1, return_probe=False).offset == 2  # only rdi is read: fine
    point = choose(code, args=2, return_probe=False)  # rsi is read too: not fine
    assert (point.offset, point.emulated) == (0, False)
    assert "changes esi" in point.reason


def test_endbr64_is_skipped_over() -> None:
    assert choose(ENDBR_THEN_PUSH, args=4, return_probe=True).offset == 4


def test_a_jump_back_into_the_skipped_prefix_keeps_the_entry() -> None:
    code = bytes.fromhex("31c0" "7e02" "ebfc" "c3")  # xor; jle +2; jmp back to offset 2; ret
    point = choose(code, args=1, return_probe=False)
    assert point.offset == 0 and "jump lands" in point.reason


def test_a_function_of_unknown_extent_is_only_moved_from_when_it_need_not_be() -> None:
    assert choose(SSL_GET_ERROR, args=1, return_probe=True, whole_function=False).offset == 0
    assert choose(SSL_DO_HANDSHAKE, args=1, return_probe=True, whole_function=False).emulated


def test_a_transfer_of_control_before_any_emulated_instruction_keeps_the_entry() -> None:
    point = choose(bytes.fromhex("31c0" "c3" "53"), args=1, return_probe=False)  # xor; ret; push
    assert point.offset == 0 and "transfers control" in point.reason


def test_this_machines_libssl_has_every_probed_function_and_free_and_get_error_move() -> None:
    libs = find_libssl()
    assert libs, "no libssl on this machine"
    for name in ("SSL_do_handshake", "SSL_get_error", "SSL_ctrl", "SSL_set_fd", "SSL_free", "SSL_read"):
        assert function_code(libs[0], name) is not None, name
    found = probe_point(libs[0], "SSL_get_error", args=1, return_probe=True)
    assert found is not None and found[1].emulated


def test_an_unknown_symbol_or_a_file_that_is_not_elf_gives_none(tmp_path) -> None:
    junk = tmp_path / "libssl.so.3"
    junk.write_bytes(b"not an ELF file")
    assert function_code(str(junk), "SSL_free") is None
    truncated = tmp_path / "libssl-truncated.so.3"
    truncated.write_bytes(Path(find_libssl()[0]).read_bytes()[:4096])
    assert function_code(str(truncated), "SSL_free") is None
    assert function_code(find_libssl()[0], "No_Such_Function") is None
