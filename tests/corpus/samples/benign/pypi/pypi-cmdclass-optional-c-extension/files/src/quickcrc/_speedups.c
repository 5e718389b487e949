#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static uint16_t t16[256];
static uint32_t t32[256];

static void init_tables(void) {
    for (unsigned i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)(i << 8);
        for (int k = 0; k < 8; k++) c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
        t16[i] = c;
        uint32_t d = i;
        for (int k = 0; k < 8; k++) d = (d & 1) ? (d >> 1) ^ 0xEDB88320u : d >> 1;
        t32[i] = d;
    }
}

static PyObject *crc16_ccitt(PyObject *self, PyObject *args) {
    Py_buffer buf;
    unsigned int crc = 0xFFFF;
    if (!PyArg_ParseTuple(args, "y*|I", &buf, &crc)) return NULL;
    const unsigned char *p = buf.buf;
    uint16_t c = (uint16_t)crc;
    for (Py_ssize_t i = 0; i < buf.len; i++) c = (uint16_t)((c << 8) ^ t16[((c >> 8) ^ p[i]) & 0xFF]);
    PyBuffer_Release(&buf);
    return PyLong_FromUnsignedLong(c);
}

static PyObject *crc32(PyObject *self, PyObject *args) {
    Py_buffer buf;
    unsigned int crc = 0;
    if (!PyArg_ParseTuple(args, "y*|I", &buf, &crc)) return NULL;
    const unsigned char *p = buf.buf;
    uint32_t c = ~(uint32_t)crc;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < buf.len; i++) c = t32[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return PyLong_FromUnsignedLong(~c);
}

static PyMethodDef methods[] = {
    {"crc16_ccitt", crc16_ccitt, METH_VARARGS, "CRC-16/CCITT-FALSE of a bytes-like object."},
    {"crc32", crc32, METH_VARARGS, "CRC-32 (IEEE) of a bytes-like object."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};

PyMODINIT_FUNC PyInit__speedups(void) {
    init_tables();
    return PyModule_Create(&module);
}
