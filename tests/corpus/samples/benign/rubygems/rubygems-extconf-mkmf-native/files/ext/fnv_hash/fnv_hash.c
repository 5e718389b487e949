#include <ruby.h>
#include <stdint.h>

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

/* FnvHash.fnv1a_64(string) -> Integer */
static VALUE fnv1a_64(VALUE self, VALUE str) {
    StringValue(str);
    const unsigned char *p = (const unsigned char *)RSTRING_PTR(str);
    long len = RSTRING_LEN(str);
    uint64_t h = FNV64_OFFSET;
    for (long i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV64_PRIME;
    }
    return ULL2NUM(h);
}

void Init_fnv_hash(void) {
    VALUE mFnvHash = rb_define_module("FnvHash");
    VALUE mNative = rb_define_module_under(mFnvHash, "Native");
    rb_define_module_function(mNative, "fnv1a_64", fnv1a_64, 1);
}
