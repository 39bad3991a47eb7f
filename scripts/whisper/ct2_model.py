"""Reads a CTranslate2 model.bin (format version 6): named tensors, then aliases.

Layout, little-endian: u32 version, str spec name, u32 spec revision, u32 variable count, then per
variable: str name, u8 rank, u32 dims[rank], u8 data type, u32 byte count, the bytes; then u32
alias count and per alias: str alias, str variable. A str is a u16 length (with its NUL) and the
bytes. Scalars (rank 0) are settings such as the number of heads.
"""
import struct

import numpy as np

# CTranslate2's DataType enum, in its order.
DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError(f"model.bin ends early (at byte {self.pos}, {n} more wanted)")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str):
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def string(self) -> str:
        (n,) = self.unpack("H")
        return self.take(n).rstrip(b"\0").decode()


def read_ct2(path: str) -> tuple[str, dict[str, np.ndarray]]:
    """The spec name ("WhisperSpec") and every variable by name, aliases resolved."""
    with open(path, "rb") as f:
        r = _Reader(f.read())
    (version,) = r.unpack("I")
    if version != 6:
        raise ValueError(f"{path}: CTranslate2 model format {version}, this reader knows 6")
    spec = r.string()
    r.unpack("I")  # spec revision
    (count,) = r.unpack("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(count):
        name = r.string()
        (rank,) = r.unpack("B")
        dims = r.unpack("I" * rank)
        (dtype,) = r.unpack("B")
        (nbytes,) = r.unpack("I")
        if dtype not in DTYPES:
            raise ValueError(f"{path}: {name} has data type {dtype}, which this reader does not know")
        variables[name] = np.frombuffer(r.take(nbytes), dtype=DTYPES[dtype]).reshape(dims)
    (aliases,) = r.unpack("I")
    for _ in range(aliases):
        alias, target = r.string(), r.string()
        variables[alias] = variables[target]
    if r.pos != len(r.data):
        raise ValueError(f"{path}: {len(r.data) - r.pos} bytes after the last alias")
    return spec, variables
