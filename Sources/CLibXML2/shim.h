/* libxml2 for Swift. Debian builds libxml2 with ICU, and its encoding.h then pulls in
   the system ICU headers, which clash with Foundation's bundled ICU module when both are
   imported. MLFlux never touches the ICU converter fields, so hide them. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
