/*
 * schema_value.h - JSON values as JSON Schema sees them: equality where 1
 * and 1.0 are the same number, numeric comparison that is exact between
 * integers, multipleOf, and the names of types.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_SCHEMA_VALUE_H
#define TASKWIRE_SCHEMA_VALUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* JSON Schema equality (const, enum, uniqueItems); *steps is charged one per value seen
 * and the answer is false once it reaches 0. */
bool schema_value_equal(const json_t *a, const json_t *b, long *steps);
/* <0, 0 or >0 as number 'a' is below, equal to or above number 'b'. */
int schema_value_cmp(const json_t *a, const json_t *b);
/* True when number 'v' is an integer multiple of 'm' (> 0): exact for two integers, else
 * the quotient must be finite and within 1e-9 of an integer. */
bool schema_value_multiple(const json_t *v, const json_t *m);
/* True for a number with no fractional part (1.0 included). */
bool schema_value_is_integer(const json_t *v);
/* The enum snode_type bit of 'v' (a number is SN_NUMBER, plus SN_INTEGER if integral). */
unsigned schema_value_types(const json_t *v);
/* "an object", "a string", ... for messages. */
const char *schema_value_kind(const json_t *v);

#define SCHEMA_PTR_MAX 192 /* bytes of a JSON pointer kept for messages; longer ones are cut */

/* A JSON pointer being built while walking a document, for messages. */
struct schema_ptr {
    char buf[SCHEMA_PTR_MAX + 4]; /* the pointer, NUL-terminated (room for a cut mark) */
    size_t len;                   /* bytes in use */
    bool cut;                     /* a segment did not fit: the text ends in "..." */
};

/* Append "/" and the escaped 'key' ('len' bytes); returns what schema_ptr_pop() restores. */
size_t schema_value_ptr_push(struct schema_ptr *p, const char *key, size_t len);
/* Append "/" and 'index'; returns what schema_ptr_pop() restores. */
size_t schema_value_ptr_index(struct schema_ptr *p, size_t index);
/* Go back to the pointer before the push that returned 'mark'. */
void schema_value_ptr_pop(struct schema_ptr *p, size_t mark);
/* The pointer as text: "(root)" for the empty pointer. */
const char *schema_value_ptr_text(struct schema_ptr *p);

#endif
