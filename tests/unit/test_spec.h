/* The parts of the spec unit test that live in other files. */
#ifndef CRT_TEST_SPEC_H
#define CRT_TEST_SPEC_H

void test_spec_parse_errors (void);
void test_spec_validate_cases (void);
void test_error_texts (void);

#endif
