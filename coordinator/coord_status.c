//  STATUS: what the coordinator knows now, as JSON for `mp-coord status`: its agents
//  (name, host, address, slots, busy, labels, last heartbeat) and runs (who started
//  them, tests done of total, what runs now and for how long).
#include "../common/clock.h"
#include "coord_private.h"

#include <stdio.h>

static void s_json_str (FILE *out, const char *s)
{
    fputc ('"', out);
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf (out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf (out, "\\u%04x", *p);
        else
            fputc (*p, out);
    }
    fputc ('"', out);
}

static void s_agents (mp_coord_t *self, FILE *out, uint64_t now)
{
    fputs ("\"agents\":[", out);
    for (size_t i = 0; i < mp_agent_table_size (self->agents); i++) {
        const mp_agent_entry_t *agent = mp_agent_table_at (self->agents, i);
        fputs (i ? ",{\"name\":" : "{\"name\":", out);
        s_json_str (out, agent->name);
        fputs (",\"host\":", out);
        s_json_str (out, agent->hostname);
        fputs (",\"address\":", out);
        s_json_str (out, agent->address);
        fprintf (out, ",\"slots\":%zu,\"busy\":%zu,\"heartbeat_age_s\":%.1f,\"labels\":[",
                 agent->slots, agent->busy, (double) (now - agent->last_seen_ms) / 1000.0);
        for (size_t l = 0; l < agent->nlabels; l++) {
            if (l)
                fputc (',', out);
            s_json_str (out, agent->labels[l]);
        }
        fputs ("]}", out);
    }
    fputc (']', out);
}

static void s_run (mp_coord_t *self, FILE *out, mp_run_t *run, uint64_t now)
{
    size_t done = 0, total = 0;
    for (size_t i = 0; i < mp_run_nunits (run); i++) {
        const mp_unit_t *unit = mp_run_unit_at (run, i);
        done += unit->finished;
        total += unit->ntests;
    }
    fprintf (out, "{\"id\":%" PRIu64 ",\"front\":", run->id);
    s_json_str (out, run->front_name);
    fputs (",\"cwd\":", out);
    s_json_str (out, run->cwd);
    fprintf (out, ",\"state\":\"%s\",\"tests_done\":%zu,\"tests_total\":%zu,\"running\":[",
             run->state == MP_RUN_PLANNING  ? "planning"
             : run->state == MP_RUN_RUNNING ? (run->cancelled ? "cancelling" : "running")
                                            : "done",
             done, total);
    int first = 1;
    for (size_t i = 0; i < mp_run_nunits (run); i++) {
        const mp_unit_t *unit = mp_run_unit_at (run, i);
        if (!mp_coord_unit_active (run, unit) || unit->finished >= unit->ntests)
            continue;
        const mp_agent_entry_t *agent = mp_agent_table_find_key (self->agents, unit->agent);
        fputs (first ? "{\"test\":" : ",{\"test\":", out);
        first = 0;
        s_json_str (out, unit->tests[unit->finished]);
        fputs (",\"agent\":", out);
        s_json_str (out, agent ? agent->name : "");
        fprintf (out, ",\"slot\":%zu,\"pid\":%" PRIu64 ",\"seconds\":%.1f}", unit->slot,
                 unit->pid,
                 unit->test_since_ms ? (double) (now - unit->test_since_ms) / 1000.0 : 0.0);
    }
    fputs ("]}", out);
}

//  The same facts as lines: agents, then runs with what runs now.
static void s_text (mp_coord_t *self, FILE *out, uint64_t now)
{
    fprintf (out, "agents: %zu\n", mp_agent_table_size (self->agents));
    for (size_t i = 0; i < mp_agent_table_size (self->agents); i++) {
        const mp_agent_entry_t *agent = mp_agent_table_at (self->agents, i);
        fprintf (out, "  %s  host %s  from %s  slots %zu  busy %zu  heartbeat %.1fs ago  "
                 "labels ", agent->name, agent->hostname, agent->address, agent->slots,
                 agent->busy, (double) (now - agent->last_seen_ms) / 1000.0);
        for (size_t l = 0; l < agent->nlabels; l++)
            fprintf (out, "%s%s", l ? "," : "", agent->labels[l]);
        fputs (agent->nlabels ? "\n" : "-\n", out);
    }
    fprintf (out, "runs: %zu\n", zlistx_size (self->runs));
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs)) {
        size_t done = 0, total = 0;
        for (size_t i = 0; i < mp_run_nunits (run); i++) {
            done += mp_run_unit_at (run, i)->finished;
            total += mp_run_unit_at (run, i)->ntests;
        }
        fprintf (out, "  run %" PRIu64 "  by %s  in %s  %zu of %zu tests done%s\n", run->id,
                 run->front_name, run->cwd, done, total,
                 run->state == MP_RUN_DONE ? "  (over)" : "");
        for (size_t i = 0; i < mp_run_nunits (run); i++) {
            const mp_unit_t *unit = mp_run_unit_at (run, i);
            if (!mp_coord_unit_active (run, unit) || unit->finished >= unit->ntests)
                continue;
            const mp_agent_entry_t *agent = mp_agent_table_find_key (self->agents,
                                                                     unit->agent);
            fprintf (out, "    %s:%zu  %s  %.1fs\n", agent ? agent->name : "?", unit->slot,
                     unit->tests[unit->finished],
                     unit->test_since_ms ? (double) (now - unit->test_since_ms) / 1000.0
                                         : 0.0);
        }
    }
}

void mp_coord_on_status (mp_coord_t *self, mp_request_t *req)
{
    char *json = NULL, *text = NULL;
    size_t len = 0, text_len = 0;
    FILE *out = open_memstream (&json, &len);
    FILE *lines = open_memstream (&text, &text_len);
    if (!out || !lines) {
        if (out)
            fclose (out);
        if (lines)
            fclose (lines);
        free (json);
        free (text);
        mp_coord_reply_error (self, req, MP_ENOMEM, "out of memory");
        return;
    }
    uint64_t now = mp_clock_mono_ms ();
    fputc ('{', out);
    s_agents (self, out, now);
    fputs (",\"runs\":[", out);
    int first = 1;
    for (mp_run_t *run = (mp_run_t *) zlistx_first (self->runs); run;
         run = (mp_run_t *) zlistx_next (self->runs)) {
        if (!first)
            fputc (',', out);
        first = 0;
        s_run (self, out, run, now);
    }
    fputs ("]}", out);
    s_text (self, lines, now);
    int failed = fclose (out) != 0;
    failed |= fclose (lines) != 0;
    if (failed || !json || !text) {
        free (json);
        free (text);
        mp_coord_reply_error (self, req, MP_ENOMEM, "out of memory");
        return;
    }
    mp_msg_t *info = MP_PACK (status_info, .json = { (const uint8_t *) json, len },
                              .text = { (const uint8_t *) text, text_len });
    free (json);
    free (text);
    mp_coord_reply (self, req, &info);
}
