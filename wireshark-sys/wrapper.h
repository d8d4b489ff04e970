/* Everything the plugin needs from epan. bindgen runs over this file at build time
 * against the installed headers, so struct layouts and signatures always match the
 * Wireshark the plugin is built for. */
#include <wireshark.h>
#include <ws_version.h>
#include <epan/packet.h>
#include <epan/proto.h>
/* true_false_string: 4.0 and 4.4 get it through proto.h, 4.6 only declares the struct there. */
#include <epan/tfs.h>
#include <epan/proto_data.h>
#include <epan/conversation.h>
#include <epan/expert.h>
#include <epan/prefs.h>
#include <epan/column-utils.h>
#include <epan/range.h>
#include <epan/tap.h>
#include <epan/dissectors/packet-tcp.h>
#include <epan/dissectors/packet-tls.h>
#if __has_include(<wsutil/plugins.h>)
#include <wsutil/plugins.h>
#endif
#include "shim.h"
#include "stats.h"
