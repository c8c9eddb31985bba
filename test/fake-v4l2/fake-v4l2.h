// Shared declarations of the fake V4L2 camera (see fake-v4l2.c for what it is and its
// environment variables): the state of devices and descriptors, and the functions the
// interceptors, the ioctl handler and the formats/controls tables give each other.
#ifndef FAKE_V4L2_H
#define FAKE_V4L2_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create, RTLD_NEXT */
#endif
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVICES 64
#define MAX_FDS 256
#define MAX_BUFS 8
#define MAX_MAPS 256

typedef struct {
  unsigned char *data;
  size_t len;
} jpeg_t;

typedef struct {
  int devices;
  jpeg_t *jpegs;
  size_t njpegs;
  uint32_t jw, jh;
  long unplug_after, eio_after, stall_after, gone_ms, pollerr_after;
  int strip_dht, odd;
} config_t;

typedef struct {
  int32_t brightness, power_line, exposure_auto, exposure_abs;
  int owner; /* fd that holds the buffers, or -1 */
  struct timespec gone_until;
} device_t;

typedef struct {
  int used, fd, dev, nonblock;
  uint32_t fourcc, width, height, stride, sizeimage;
  uint32_t tpf_num, tpf_den;
  int nbufs;
  int memfd[MAX_BUFS];
  int queued[MAX_BUFS]; /* FIFO of buffer indices */
  int qhead, qcount;
  size_t span; /* page-rounded buffer size: offsets are index * span */
  int streaming, unplugged, pollerr;
  uint32_t sequence;
  unsigned long served;
  unsigned char *scratch;
} ffd_t;

typedef struct {
  void *addr;
  size_t len;
} map_t;

typedef struct {
  uint32_t id, type;
  const char *name;
  int32_t min, max, step, dflt;
} ctrl_t;

/* Every call into the fake holds this lock: the addon opens on a worker thread and streams on
 * the main one. */
extern pthread_mutex_t lock;
extern config_t cfg;
extern device_t devs[MAX_DEVICES];
extern ffd_t fds[MAX_FDS];
extern map_t maps[MAX_MAPS];
/* Set once any descriptor is unplugged or in error: only then do epoll waits look for ours. */
extern volatile int any_error;

/* fake-v4l2.c: libc's own calls */
int real_close(int fd);
int real_poll(struct pollfd *pfds, nfds_t n, int timeout);

/* fake-v4l2-formats.c: what the devices offer, and the frames they send */
extern uint32_t formats[3];
int nformats(void);
int format_offered(uint32_t f);
int size_at(uint32_t f, uint32_t i, uint32_t *w, uint32_t *h);
int size_offered(uint32_t f, uint32_t w, uint32_t h);
extern const uint32_t fps_offered[3];
void set_geometry(ffd_t *f, uint32_t fourcc, uint32_t w, uint32_t h);
void fill_pix(const ffd_t *f, struct v4l2_pix_format *p);
extern const ctrl_t ctrls[4];
#define NCTRLS 4
int32_t *ctrl_value(device_t *d, uint32_t id);
const char *menu_name(uint32_t id, uint32_t index);
int ctrl_inactive(const device_t *d, uint32_t id);
const unsigned char *render(ffd_t *f, uint32_t seq, size_t *len);

/* fake-v4l2-ioctl.c: one descriptor's buffers, timer and ioctls */
void free_buffers(ffd_t *f);
int fake_ioctl(ffd_t *f, unsigned long req, void *arg);

#endif
