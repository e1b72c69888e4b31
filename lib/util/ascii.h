/* ascii: small pure helpers on ASCII octets shared by the parsers. */
#ifndef OWNMAIL_ASCII_H
#define OWNMAIL_ASCII_H

/* The value of a hexadecimal digit (0-9, A-F, a-f), or -1. */
int ascii_hex_value(unsigned char c);

#endif
