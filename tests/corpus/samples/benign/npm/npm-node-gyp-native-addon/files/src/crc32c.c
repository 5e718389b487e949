/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) as an N-API addon. */
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

static uint32_t table[256];

static void init_table(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) {
      c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : (c >> 1);
    }
    table[i] = c;
  }
}

/* compute(buffer[, previous]) -> uint32 */
static napi_value Compute(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *data = NULL;
  size_t len = 0;
  uint32_t crc = 0;
  napi_value out;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    return NULL;
  }
  if (argc < 1 || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "crc32c: expected a Buffer");
    return NULL;
  }
  if (argc > 1) {
    napi_get_value_uint32(env, argv[1], &crc);
  }
  crc = ~crc;
  const uint8_t *p = (const uint8_t *)data;
  for (size_t i = 0; i < len; i++) {
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  }
  napi_create_uint32(env, ~crc, &out);
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  init_table();
  napi_create_function(env, "compute", NAPI_AUTO_LENGTH, Compute, NULL, &fn);
  napi_set_named_property(env, exports, "compute", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
