/*
 * A no-op milter in C against libmilter (Debian's libmilter-dev), for `deno task bench
 * plugins`: the same work as milter_noop.py (envelope, every header and the whole body
 * are sent to it; CONTINUE to each, ACCEPT at the end), without Python's cost. Every 100
 * messages it writes how many it has seen to COUNTFILE. Built by the bench into a temp
 * folder: cc -O2 -o milter_noop milter_noop.c -lmilter -pthread
 *
 * Usage: milter_noop NAME PORT COUNTFILE   (listens on inet:PORT@127.0.0.1)
 */
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static const char *count_file;
static unsigned long seen;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static sfsistat on_envfrom(SMFICTX *ctx, char **argv) { return SMFIS_CONTINUE; }
static sfsistat on_envrcpt(SMFICTX *ctx, char **argv) { return SMFIS_CONTINUE; }
static sfsistat on_header(SMFICTX *ctx, char *name, char *value) { return SMFIS_CONTINUE; }
static sfsistat on_eoh(SMFICTX *ctx) { return SMFIS_CONTINUE; }
static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len) { return SMFIS_CONTINUE; }

static sfsistat on_eom(SMFICTX *ctx) {
  pthread_mutex_lock(&lock);
  if (++seen % 100 == 0) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", count_file);
    FILE *f = fopen(tmp, "w");
    if (f) {
      fprintf(f, "%lu", seen);
      fclose(f);
      rename(tmp, count_file);
    }
  }
  pthread_mutex_unlock(&lock);
  return SMFIS_ACCEPT;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s NAME PORT COUNTFILE\n", argv[0]);
    return 2;
  }
  count_file = argv[3];
  static char conn[64];
  snprintf(conn, sizeof conn, "inet:%s@127.0.0.1", argv[2]);
  struct smfiDesc desc = {
      .xxfi_name = argv[1],
      .xxfi_version = SMFI_VERSION,
      .xxfi_flags = 0,
      .xxfi_envfrom = on_envfrom,
      .xxfi_envrcpt = on_envrcpt,
      .xxfi_header = on_header,
      .xxfi_eoh = on_eoh,
      .xxfi_body = on_body,
      .xxfi_eom = on_eom,
  };
  if (smfi_setconn(conn) == MI_FAILURE || smfi_register(desc) == MI_FAILURE) {
    fprintf(stderr, "milter %s: cannot set up %s\n", argv[1], conn);
    return 1;
  }
  return smfi_main() == MI_SUCCESS ? 0 : 1;
}
