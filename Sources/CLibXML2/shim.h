// libxml2's encoding.h pulls the system ICU headers, which clash with the Swift toolchain's own ICU module
// ("'UErrorCode' has different definitions"): we never use its ICU members, so switch them off first.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

// `xmlFree` is a global function pointer, which Swift 6 refuses as shared mutable state: call it from C.
static inline void kiln_xml_free(void *pointer) { xmlFree(pointer); }
