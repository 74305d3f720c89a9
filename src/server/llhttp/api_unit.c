/* Debian's node-llhttp 8.1 generated C (api.c), compiled into the addon in strict mode with hidden
 * visibility: the node binary exports its own llhttp 9, whose settings struct differs, and code
 * built with default visibility would silently bind to Node's copy (see binding.gyp). */
#include <api.c>
