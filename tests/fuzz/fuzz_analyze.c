/* fuzz_analyze.c: libFuzzer target for the whole analysis of a raw
 * message (GMime walk, charset decoding, URL extraction from text and
 * HTML, Received walk, hashing, reported messages) and its JSON form. */
#include <stddef.h>
#include <stdint.h>

#include "analysis/analyze.h"
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tm_config *cfg;

	if (cfg == NULL) {
		analyze_init();
		cfg = config_defaults();
	}
	struct facts *facts = analyze_buffer((const char *)data, size, cfg);
	cJSON *json = facts_to_json(facts);
	char *text = cJSON_PrintUnformatted(json);

	cJSON_free(text);
	cJSON_Delete(json);
	facts_free(facts);
	return 0;
}
