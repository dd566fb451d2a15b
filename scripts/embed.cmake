# SPDX-License-Identifier: Apache-2.0
# cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed.cmake
# Writes a C file defining `const char NAME[]` with IN's bytes and a final NUL.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* Generated from ${IN} by embed.cmake. */\nextern const char ${NAME}[];\nconst char ${NAME}[] = {${bytes}0x00};\n")
