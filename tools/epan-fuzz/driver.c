/* The in-process dissection driver of the epan fuzz harness (see src/lib.rs).
 *
 * Sets up libwiretap and libwireshark once, as Wireshark's own fuzzshark does
 * (fuzz/fuzzshark.c: wtap_init, epan_init without plugin loading, epan_load_settings,
 * prefs), with the plugin registered directly instead of loaded from a plugin folder. Then
 * each input is one capture file: a new epan session (file scope), a first pass over every
 * frame in capture order, a second pass in another order, and the end of the session.
 * Everything whose layout or signature differs between Wireshark 4.0, 4.4 and 4.6 is here,
 * compiled against the installed headers, so the Rust side only passes plain bytes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <wireshark.h>
#include <ws_version.h>
#include <epan/epan.h>
#include <epan/epan_dissect.h>
#include <epan/prefs.h>
#include <epan/column.h>
#include <epan/column-info.h>
#include <epan/packet.h>
#include <epan/proto.h>
#include <epan/tap.h>
#include <epan/srt_table.h>
#include <epan/stats_tree_priv.h>
#include <epan/dfilter/dfilter.h>
#include <epan/frame_data.h>
#include <epan/timestamp.h>
#include <wiretap/wtap.h>
#include <wsutil/filesystem.h>
#include <wsutil/privileges.h>
#include <wsutil/wslog.h>

#define WS_AT_LEAST(maj, min)                                                                 \
    (WIRESHARK_VERSION_MAJOR > (maj) ||                                                       \
     (WIRESHARK_VERSION_MAJOR == (maj) && WIRESHARK_VERSION_MINOR >= (min)))

/* One frame of the capture, as built by the Rust side: Ethernet bytes and a time stamp. */
typedef struct {
    const uint8_t *data;
    uint32_t len;
    int64_t secs;
    int32_t nsecs;
} zkh2_fz_frame;

/* The dissection of one capture as Wireshark's packet provider sees it (the application
 * defines this struct; epan only passes the pointer back). */
struct packet_provider_data {
    frame_data *fds;
    uint32_t n;
    const frame_data *ref;
    frame_data *prev_dis;
};

static const nstime_t *fz_get_frame_ts(struct packet_provider_data *prov, uint32_t num)
{
    if (prov == NULL || num == 0 || num > prov->n)
        return NULL;
    return &prov->fds[num - 1].abs_ts;
}

#if WS_AT_LEAST(4, 2)
static const char *fz_get_interface_name(struct packet_provider_data *prov, uint32_t id,
                                         unsigned section)
{
    (void)prov;
    (void)id;
    (void)section;
    return "fuzz0";
}
#else
static const char *fz_get_interface_name(struct packet_provider_data *prov, uint32_t id)
{
    (void)prov;
    (void)id;
    return "fuzz0";
}
#endif

static const struct packet_provider_funcs fz_funcs = {
    .get_frame_ts = fz_get_frame_ts,
    .get_interface_name = fz_get_interface_name,
};

#if !WS_AT_LEAST(4, 2)
/* Wireshark 4.0 reloads its name resolution tables from the data files at the start of every
 * capture file (init_dissection -> host_name_lookup_reset), into the epan scope, which only
 * ends with the process: about 9 MB per file for the manufacturer, well-known address,
 * service and enterprise tables (4.2 builds them in). That is harmless for one file, but a
 * fuzzer opens thousands, and would soon run out of memory for no fault of ours. So this
 * executable (never the plugin) hides those four files: calls from libwireshark into
 * libwsutil's get_datafile_path bind to this definition first. The plugin never resolves
 * names, and MAC addresses then show in hex. */
char *get_datafile_path(const char *filename)
{
    static char *(*real)(const char *);
    static const char *const hidden[] = {"manuf", "wka", "services", "enterprises.tsv"};
    for (size_t i = 0; i < G_N_ELEMENTS(hidden); i++)
        if (filename != NULL && strcmp(filename, hidden[i]) == 0)
            return g_strdup("/nonexistent/zkh2-epan-fuzz/hidden");
    if (real == NULL)
        real = (char *(*)(const char *))dlsym(RTLD_NEXT, "get_datafile_path");
    return real != NULL ? real(filename) : g_strdup("/nonexistent/zkh2-epan-fuzz/hidden");
}
#endif

static column_info fz_cinfo;
/* The plugin's count of running guarded callbacks (zkh2::epan::guard::active_guards). */
static uint32_t (*fz_active_guards)(void);
static dfilter_t *fz_dfilter;
static int fz_initialised;
static uint64_t fz_tapped;

/* Our protocols, for counting the frames that reached them. */
static const char *const fz_ours[] = {"zookeeper", "zab", "zkelection", "h2"};

/* Other protocols' heuristics on TCP and HTTP are turned off: the harness fuzzes the
 * plugin, and a bug in another dissector that a mutated input wakes up is not ours (finding
 * F6: Wireshark 4.0's Ceph heuristic claimed a "ceph v" banner and then asserted on the
 * second pass). The robustness script's tshark runs keep every heuristic and sort such
 * crashes out with --disable-protocol instead. */
static const char *const fz_own_protocols[] = {"zookeeper", "zab", "zkelection", "h2"};

static void fz_keep_own_heuristic(const char *table_name, struct heur_dtbl_entry *entry,
                                  void *user_data)
{
    (void)table_name;
    (void)user_data;
    const char *name = proto_get_protocol_filter_name(proto_get_id(entry->protocol));
    for (size_t i = 0; i < sizeof fz_own_protocols / sizeof fz_own_protocols[0]; i++)
        if (name != NULL && strcmp(name, fz_own_protocols[i]) == 0)
            return;
    entry->enabled = 0;
}

int zkh2_fz_init(void (*plugin_register)(void), uint32_t (*active_guards)(void),
                 const char *argv0)
{
    if (fz_initialised)
        return 0;
    fz_active_guards = active_guards;
    /* Warnings and worse only: the display filter compiler logs every filter at info. A
     * critical message (Wireshark's or GLib's: a failed g_return_if_fail, say) aborts, as a
     * dissector bug does: it says that something was called the wrong way. */
    ws_log_set_level(LOG_LEVEL_WARNING);
#if WS_AT_LEAST(4, 2)
    ws_log_set_fatal_level(LOG_LEVEL_CRITICAL);
#else
    ws_log_set_fatal(LOG_LEVEL_CRITICAL);
#endif
    g_log_set_always_fatal((GLogLevelFlags)(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL));
    init_process_policies();
#if WS_AT_LEAST(4, 6)
    char *err = configuration_init(argv0);
#else
    char *err = configuration_init(argv0, NULL);
#endif
    g_free(err);
    /* The Time column, as tshark's default. */
    timestamp_set_type(TS_RELATIVE);
    timestamp_set_precision(TS_PREC_AUTO);
    timestamp_set_seconds_type(TS_SECONDS_DEFAULT);
    /* Libwiretap first (its block types are used at registration), without plugins. */
    wtap_init(FALSE);
    /* The plugin's proto_register_plugin: epan_init then calls its register_protoinfo and
     * register_handoff among the built-in dissectors, as when it is loaded from a folder. */
    plugin_register();
    if (!epan_init(NULL, NULL, FALSE))
        return -1;
    e_prefs *prefs_p = epan_load_settings();
    prefs_apply_all();
    heur_dissector_table_foreach("tcp", fz_keep_own_heuristic, NULL);
    heur_dissector_table_foreach("http", fz_keep_own_heuristic, NULL);
    build_column_format_array(&fz_cinfo, prefs_p->num_cols, TRUE);
    fz_initialised = 1;
    return 0;
}

/* "name:value", as `tshark -o`. Returns 0 when set. */
int zkh2_fz_set_pref(const char *pref)
{
    char *copy = g_strdup(pref);
    char *errmsg = NULL;
    prefs_set_pref_e ret = prefs_set_pref(copy, &errmsg);
    g_free(errmsg);
    g_free(copy);
    return ret == PREFS_SET_OK ? 0 : -1;
}

void zkh2_fz_apply_prefs(void) { prefs_apply_all(); }

/* The default value of preference `module`.`name` as `-o` takes it (free with g_free), or
 * NULL when there is no such preference. */
char *zkh2_fz_pref_default(const char *module, const char *name)
{
    module_t *m = prefs_find_module(module);
    pref_t *p = m != NULL ? prefs_find_preference(m, name) : NULL;
    return p != NULL ? prefs_pref_to_str(p, pref_default) : NULL;
}

void zkh2_fz_free(void *p) { g_free(p); }

/* The display filter that primes the first pass when asked to: the clauses that compile
 * (a field may not exist in every version of the plugin), joined with "||". Returns the
 * number of clauses kept. */
int zkh2_fz_set_filter(const char *const *clauses, size_t n)
{
    GString *text = g_string_new(NULL);
    int kept = 0;
    for (size_t i = 0; i < n; i++) {
        dfilter_t *df = NULL;
#if WS_AT_LEAST(4, 2)
        df_error_t *err = NULL;
        int ok = dfilter_compile(clauses[i], &df, &err);
        df_error_free(&err);
#else
        char *err = NULL;
        int ok = dfilter_compile(clauses[i], &df, &err);
        g_free(err);
#endif
        if (ok && df != NULL) {
            g_string_append_printf(text, "%s(%s)", kept ? " || " : "", clauses[i]);
            kept++;
        }
        dfilter_free(df);
    }
    if (fz_dfilter != NULL) {
        dfilter_free(fz_dfilter);
        fz_dfilter = NULL;
    }
    if (kept > 0) {
#if WS_AT_LEAST(4, 2)
        df_error_t *err = NULL;
        if (!dfilter_compile(text->str, &fz_dfilter, &err))
            kept = 0;
        df_error_free(&err);
#else
        char *err = NULL;
        if (!dfilter_compile(text->str, &fz_dfilter, &err))
            kept = 0;
        g_free(err);
#endif
    }
    g_string_free(text, TRUE);
    return kept;
}

/* A listener that only counts: attached to every tap of interest, so that epan runs the
 * taps (tap_queue_packet copies and pushes the records) on every frame. */
static tap_packet_status fz_count_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt,
                                         const void *data, tap_flags_t flags)
{
    (void)tapdata;
    (void)pinfo;
    (void)edt;
    (void)data;
    (void)flags;
    fz_tapped++;
    return TAP_PACKET_DONT_REDRAW;
}

static int fz_name_in(const char *name, const char *const *names, size_t n)
{
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

struct fz_srt_walk {
    const char *const *names;
    size_t n;
    int started;
};

/* wmem_foreach_func returns gboolean in 4.0 and bool from 4.2 on. */
#if WS_AT_LEAST(4, 2)
typedef bool fz_foreach_ret;
#else
typedef gboolean fz_foreach_ret;
#endif

static fz_foreach_ret fz_start_srt(const void *key, void *value, void *userdata)
{
    (void)key;
    register_srt_t *srt = (register_srt_t *)value;
    struct fz_srt_walk *w = (struct fz_srt_walk *)userdata;
    const char *tap = get_srt_tap_listener_name(srt);
    if (!fz_name_in(tap, w->names, w->n))
        return FALSE;
    srt_data_t *data = g_new0(srt_data_t, 1);
    data->srt_array = g_array_new(FALSE, TRUE, sizeof(srt_stat_table *));
    srt_table_dissector_init(srt, data->srt_array);
    GString *e = register_tap_listener(tap, data, NULL, 0, NULL, get_srt_packet_func(srt), NULL,
                                       NULL);
    if (e != NULL)
        g_string_free(e, TRUE);
    else
        w->started++;
    return FALSE;
}

/* Attaches, for every tap named in `names` that exists: a counting listener, the stats trees
 * and the service response time tables that read it (what `-z <tree>` and `-z <proto>,srt`
 * start in tshark, and the Statistics menu in the GUI). Returns the number of listeners. */
int zkh2_fz_enable_taps(const char *const *names, size_t n)
{
    int started = 0;
    for (size_t i = 0; i < n; i++) {
        if (find_tap_id(names[i]) <= 0)
            continue;
        GString *e = register_tap_listener(names[i], &fz_tapped, NULL, TL_REQUIRES_NOTHING, NULL,
                                           fz_count_packet, NULL, NULL);
        if (e != NULL)
            g_string_free(e, TRUE);
        else
            started++;
    }
    GList *cfgs = stats_tree_get_cfg_list();
    for (GList *l = cfgs; l != NULL; l = l->next) {
        stats_tree_cfg *cfg = (stats_tree_cfg *)l->data;
        if (!fz_name_in(cfg->tapname, names, n))
            continue;
        stats_tree *st = stats_tree_new(cfg, NULL, NULL);
        GString *e = register_tap_listener(cfg->tapname, st, NULL, cfg->flags, stats_tree_reset,
                                           stats_tree_packet, NULL, NULL);
        if (e != NULL) {
            g_string_free(e, TRUE);
            continue;
        }
        if (cfg->init)
            cfg->init(st);
        started++;
    }
    g_list_free(cfgs);
    struct fz_srt_walk w = {names, n, 0};
    srt_table_iterate_tables(fz_start_srt, &w);
    return started + w.started;
}

uint64_t zkh2_fz_tapped(void) { return fz_tapped; }

/* Dissects one frame (epan_dissect_run_with_taps, then the columns as the packet list shows
 * them). Returns 1 when one of our protocols is among the frame's layers. */
static int fz_dissect_frame(epan_t *epan, epan_dissect_t *edt, const zkh2_fz_frame *f,
                            frame_data *fd, int filter, int pass)
{
    (void)epan;
    uint32_t guards = fz_active_guards();
    wtap_rec rec;
#if WS_AT_LEAST(4, 6)
    wtap_rec_init(&rec, f->len);
    wtap_setup_packet_rec(&rec, WTAP_ENCAP_ETHERNET);
    ws_buffer_append(&rec.data, f->data, f->len);
#else
    wtap_rec_init(&rec);
    rec.rec_type = REC_TYPE_PACKET;
    rec.rec_header.packet_header.pkt_encap = WTAP_ENCAP_ETHERNET;
#endif
    rec.presence_flags = WTAP_HAS_TS | WTAP_HAS_CAP_LEN;
    rec.ts.secs = (time_t)f->secs;
    rec.ts.nsecs = f->nsecs;
    rec.tsprec = WTAP_TSPREC_USEC;
    rec.rec_header.packet_header.caplen = f->len;
    rec.rec_header.packet_header.len = f->len;
    if (filter && fz_dfilter != NULL)
        epan_dissect_prime_with_dfilter(edt, fz_dfilter);
#if WS_AT_LEAST(4, 6)
    epan_dissect_run_with_taps(edt, wtap_pcap_file_type_subtype(), &rec, fd, &fz_cinfo);
#else
    epan_dissect_run_with_taps(edt, wtap_pcap_file_type_subtype(), &rec,
                               tvb_new_real_data(f->data, f->len, (int)f->len), fd, &fz_cinfo);
#endif
    /* An epan exception thrown under a Rust frame of the plugin longjmps over it: the
     * guard that counts it never returns. Undefined behaviour that no sanitizer reports. */
    if (fz_active_guards() != guards) {
        fprintf(stderr,
                "epan-fuzz: frame %u (pass %d): an epan exception skipped a guarded Rust frame "
                "of the plugin (longjmp through Rust)\n",
                fd->num, pass);
        abort();
    }
    epan_dissect_fill_in_columns(edt, FALSE, TRUE);
    if (filter && fz_dfilter != NULL)
        (void)dfilter_apply_edt(fz_dfilter, edt);
    int ours = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(fz_ours); i++)
        if (proto_is_frame_protocol(edt->pi.layers, fz_ours[i]))
            ours = 1;
    epan_dissect_reset(edt);
    wtap_rec_cleanup(&rec);
    return ours;
}

/* One capture file. The first pass visits the frames in capture order, as reading a file
 * does (with an invisible tree primed with the display filter when FZ_FILTERED_PASS1, as
 * the GUI's colouring rules do; else a visible tree); the second pass visits `order2`
 * (frame indexes), as clicking through the packet list does, always with a visible tree.
 * Returns the number of second-pass frames in which one of our protocols appears. */
#define FZ_FILTERED_PASS1 1u
int zkh2_fz_dissect(const zkh2_fz_frame *frames, uint32_t n, const uint32_t *order2,
                    uint32_t n2, unsigned flags)
{
    if (!fz_initialised)
        return -1;
    struct packet_provider_data prov;
    memset(&prov, 0, sizeof prov);
    prov.fds = g_new0(frame_data, n ? n : 1);
    prov.n = n;
    epan_t *epan = epan_new(&prov, &fz_funcs);
    reset_tap_listeners();

    int filtered = (flags & FZ_FILTERED_PASS1) != 0;
    epan_dissect_t *edt = epan_dissect_new(epan, TRUE, !filtered);
    nstime_t elapsed = {0, 0};
    uint32_t cum_bytes = 0;
    int64_t offset = 24;
    wtap_rec init_rec;
    for (uint32_t i = 0; i < n; i++) {
        frame_data *fd = &prov.fds[i];
        memset(&init_rec, 0, sizeof init_rec);
        init_rec.rec_type = REC_TYPE_PACKET;
        init_rec.presence_flags = WTAP_HAS_TS | WTAP_HAS_CAP_LEN;
        init_rec.ts.secs = (time_t)frames[i].secs;
        init_rec.ts.nsecs = frames[i].nsecs;
        init_rec.tsprec = WTAP_TSPREC_USEC;
        init_rec.rec_header.packet_header.caplen = frames[i].len;
        init_rec.rec_header.packet_header.len = frames[i].len;
        frame_data_init(fd, i + 1, &init_rec, offset, cum_bytes);
        offset += 16 + frames[i].len;
        frame_data_set_before_dissect(fd, &elapsed, &prov.ref, prov.prev_dis);
        fz_dissect_frame(epan, edt, &frames[i], fd, filtered, 1);
        frame_data_set_after_dissect(fd, &cum_bytes);
        prov.prev_dis = fd;
    }
    epan_dissect_free(edt);
    /* As tshark -2 after its first pass. */
    postseq_cleanup_all_protocols();

    int ours = 0;
    edt = epan_dissect_new(epan, TRUE, TRUE);
    for (uint32_t k = 0; k < n2; k++) {
        uint32_t i = order2[k];
        if (i >= n)
            continue;
        ours += fz_dissect_frame(epan, edt, &frames[i], &prov.fds[i], 0, 2);
    }
    epan_dissect_free(edt);

    for (uint32_t i = 0; i < n; i++)
        frame_data_destroy(&prov.fds[i]);
    /* The end of the capture file: cleanup routines, then the file scope ends (our
     * conversation state is freed here). */
    epan_free(epan);
    g_free(prov.fds);
    return ours;
}
