#ifndef MURMUR3_H
#define MURMUR3_H

#include <stddef.h>
#include <stdint.h>

uint32_t murmur3_32(const uint8_t *data, size_t len, uint32_t seed);

#endif
