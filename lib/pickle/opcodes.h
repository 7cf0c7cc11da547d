/* Internal: the pickle opcodes, named as in Python's pickle.py. Never installed. */
#ifndef ST_PICKLE_OPCODES_H
#define ST_PICKLE_OPCODES_H

enum {
    /* protocol 0 and 1 */
    MARK = '(',            /* push the mark for the items of a tuple, list, dict or APPENDS */
    STOP = '.',            /* the value on top is the result */
    POP = '0',             /* drop the top item */
    POP_MARK = '1',        /* drop the items back to the mark, and the mark */
    DUP = '2',             /* push the top item again */
    FLOAT = 'F',           /* a float as a decimal line */
    INT = 'I',             /* an int as a decimal line ("01"/"00": True/False) */
    BININT = 'J',          /* a 4-byte signed int */
    BININT1 = 'K',         /* a 1-byte unsigned int */
    LONG = 'L',            /* an int as a decimal line ending in L */
    BININT2 = 'M',         /* a 2-byte unsigned int */
    NONE = 'N',            /* None */
    PERSID = 'P',          /* a persistent id as a line */
    BINPERSID = 'Q',       /* a persistent id from the stack */
    REDUCE = 'R',          /* call the global below with the tuple on top */
    STRING = 'S',          /* a Python 2 str as a quoted literal line */
    BINSTRING = 'T',       /* a Python 2 str, 4-byte length */
    SHORT_BINSTRING = 'U', /* a Python 2 str, 1-byte length */
    UNICODE = 'V',         /* a str as a raw-unicode-escape line */
    BINUNICODE = 'X',      /* a str as UTF-8, 4-byte length */
    APPEND = 'a',          /* append the top item to the list below it */
    BUILD = 'b',           /* __setstate__ or update the object's __dict__ */
    GLOBAL = 'c',          /* push module.name from two lines */
    DICT = 'd',            /* a dict of the key/value items back to the mark */
    EMPTY_DICT = '}',
    APPENDS = 'e',         /* extend the list below the mark by the items after it */
    GET = 'g',             /* push the memo entry of a decimal line's index */
    BINGET = 'h',          /* ... of a 1-byte index */
    INST = 'i',            /* build an instance of module.name */
    LONG_BINGET = 'j',     /* ... of a 4-byte index */
    LIST = 'l',            /* a list of the items back to the mark */
    EMPTY_LIST = ']',
    OBJ = 'o',             /* build an instance of the class at the mark */
    PUT = 'p',             /* store the top item in the memo at a decimal line's index */
    BINPUT = 'q',          /* ... at a 1-byte index */
    LONG_BINPUT = 'r',     /* ... at a 4-byte index */
    SETITEM = 's',         /* set key (second from the top) to value in the dict below */
    TUPLE = 't',           /* a tuple of the items back to the mark */
    EMPTY_TUPLE = ')',
    SETITEMS = 'u',        /* set the key/value items after the mark in the dict below it */
    BINFLOAT = 'G',        /* a float as 8 big-endian bytes */

    /* protocol 2 */
    PROTO = 0x80,    /* the protocol, 1 byte */
    NEWOBJ = 0x81,   /* cls.__new__(cls, *args) */
    EXT1 = 0x82,     /* push an object from the extension registry, 1-byte code */
    EXT2 = 0x83,     /* ... 2-byte code */
    EXT4 = 0x84,     /* ... 4-byte code */
    TUPLE1 = 0x85,   /* a tuple of the top item */
    TUPLE2 = 0x86,   /* ... of the top two */
    TUPLE3 = 0x87,   /* ... of the top three */
    NEWTRUE = 0x88,  /* True */
    NEWFALSE = 0x89, /* False */
    LONG1 = 0x8a,    /* an int as little-endian two's complement, 1-byte length */
    LONG4 = 0x8b,    /* ... 4-byte length */

    /* protocol 3 */
    BINBYTES = 'B',       /* bytes, 4-byte length */
    SHORT_BINBYTES = 'C', /* bytes, 1-byte length */

    /* protocol 4 */
    SHORT_BINUNICODE = 0x8c, /* a str as UTF-8, 1-byte length */
    BINUNICODE8 = 0x8d,      /* ... 8-byte length */
    BINBYTES8 = 0x8e,        /* bytes, 8-byte length */
    EMPTY_SET = 0x8f,
    ADDITEMS = 0x90,     /* add the items after the mark to the set below it */
    FROZENSET = 0x91,    /* a frozenset of the items back to the mark */
    NEWOBJ_EX = 0x92,    /* cls.__new__(cls, *args, **kwargs) */
    STACK_GLOBAL = 0x93, /* push module.name from the two strs on top */
    MEMOIZE = 0x94,      /* store the top item at the next memo index */
    FRAME = 0x95,        /* the 8-byte length of the frame that follows */

    /* protocol 5 */
    BYTEARRAY8 = 0x96,      /* a bytearray, 8-byte length */
    NEXT_BUFFER = 0x97,     /* push the next out-of-band buffer */
    READONLY_BUFFER = 0x98, /* make the buffer on top read-only */
};

#endif
