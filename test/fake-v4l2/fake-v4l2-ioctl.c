// The fake camera's ioctls on one open descriptor: negotiation, the buffer ring (memfd-backed,
// so the mappings are real and show in /proc/self/maps), the frame timer (a timerfd: what
// libuv's epoll waits on) and the fault modes.
#include "fake-v4l2.h"

void free_buffers(ffd_t *f) {
  for (int i = 0; i < f->nbufs; i++) real_close(f->memfd[i]);
  f->nbufs = f->qhead = f->qcount = 0;
  free(f->scratch);
  f->scratch = NULL;
  if (devs[f->dev].owner == f->fd) devs[f->dev].owner = -1;
}

static void arm(ffd_t *f, long first_ns, int periodic) {
  struct itimerspec its = {0};
  if (first_ns >= 0) {
    its.it_value.tv_sec = first_ns / 1000000000L;
    its.it_value.tv_nsec = first_ns % 1000000000L;
    if (!its.it_value.tv_sec && !its.it_value.tv_nsec) its.it_value.tv_nsec = 1;
  }
  if (periodic) {
    long period = (long)(1e9 * f->tpf_num / f->tpf_den);
    its.it_interval.tv_sec = period / 1000000000L;
    its.it_interval.tv_nsec = period % 1000000000L;
  }
  timerfd_settime(f->fd, 0, &its, NULL);
}

static void unplug(ffd_t *f) {
  f->unplugged = 1;
  clock_gettime(CLOCK_MONOTONIC, &devs[f->dev].gone_until);
  devs[f->dev].gone_until.tv_sec += cfg.gone_ms / 1000;
  devs[f->dev].gone_until.tv_nsec += (cfg.gone_ms % 1000) * 1000000L;
  if (devs[f->dev].gone_until.tv_nsec >= 1000000000L) {
    devs[f->dev].gone_until.tv_sec++;
    devs[f->dev].gone_until.tv_nsec -= 1000000000L;
  }
  any_error = 1;
  arm(f, 0, 0); /* wake the waiter now: a real device reports POLLERR at once */
}

static int do_dqbuf(ffd_t *f, struct v4l2_buffer *b) {
  if (!f->streaming) return EINVAL;
  if (cfg.unplug_after >= 0 && (long)f->served >= cfg.unplug_after) {
    if (!f->unplugged) unplug(f);
    return ENODEV;
  }
  if (cfg.eio_after >= 0 && (long)f->served >= cfg.eio_after) return EIO;
  if (cfg.pollerr_after >= 0 && (long)f->served >= cfg.pollerr_after) {
    /* The queue is in error: no frame, and the timer left readable so epoll reports it. */
    if (!f->pollerr) {
      f->pollerr = 1;
      any_error = 1;
      arm(f, 0, 0);
    }
    return EAGAIN;
  }
  uint64_t ticks = 0;
  if (read(f->fd, &ticks, sizeof ticks) != sizeof ticks) return EAGAIN;
  uint32_t seq = f->sequence;
  f->sequence += (uint32_t)ticks; /* ticks beyond one are frames the "sensor" dropped */
  if (!f->qcount) return EAGAIN;  /* no buffer to fill: the frame is lost, as in a driver */
  int idx = f->queued[f->qhead];
  f->qhead = (f->qhead + 1) % MAX_BUFS;
  f->qcount--;
  /* Into the buffer, as a camera's DMA would: one copy of the frame's bytes. */
  size_t used;
  const unsigned char *bytes = render(f, seq, &used);
  if (pwrite(f->memfd[idx], bytes, used, 0) != (ssize_t)used) return EIO;
  f->served++;
  if (cfg.stall_after >= 0 && (long)f->served >= cfg.stall_after) arm(f, -1, 0);
  memset(b, 0, sizeof *b);
  b->index = (uint32_t)idx;
  b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  b->memory = V4L2_MEMORY_MMAP;
  b->bytesused = (uint32_t)used;
  b->length = f->sizeimage;
  b->m.offset = (uint32_t)(idx * f->span);
  b->field = V4L2_FIELD_NONE;
  b->flags = V4L2_BUF_FLAG_MAPPED | V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC | V4L2_BUF_FLAG_DONE;
  b->sequence = seq;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  b->timestamp.tv_sec = now.tv_sec;
  b->timestamp.tv_usec = now.tv_nsec / 1000;
  return 0;
}

static int buffer_queued(const ffd_t *f, int idx) {
  for (int i = 0; i < f->qcount; i++)
    if (f->queued[(f->qhead + i) % MAX_BUFS] == idx) return 1;
  return 0;
}

int fake_ioctl(ffd_t *f, unsigned long req, void *arg) {
  device_t *d = &devs[f->dev];
  if (f->unplugged) return ENODEV;
  switch (req) {
  case VIDIOC_QUERYCAP: {
    struct v4l2_capability *c = arg;
    memset(c, 0, sizeof *c);
    snprintf((char *)c->driver, sizeof c->driver, "fake-v4l2");
    snprintf((char *)c->card, sizeof c->card, "Fake Camera %d", f->dev);
    snprintf((char *)c->bus_info, sizeof c->bus_info, "fake:%d", f->dev);
    c->version = (6u << 16) | (1u << 8);
    c->device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
    c->capabilities = c->device_caps | V4L2_CAP_DEVICE_CAPS;
    return 0;
  }
  case VIDIOC_ENUM_FMT: {
    struct v4l2_fmtdesc *e = arg;
    int n = nformats();
    if (e->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || e->index >= (uint32_t)n) return EINVAL;
    uint32_t fmt = formats[e->index], index = e->index;
    memset(e, 0, sizeof *e);
    e->index = index;
    e->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    e->pixelformat = fmt;
    e->flags = fmt == V4L2_PIX_FMT_MJPEG ? V4L2_FMT_FLAG_COMPRESSED : 0;
    snprintf((char *)e->description, sizeof e->description, "%s",
             fmt == V4L2_PIX_FMT_MJPEG ? "Motion-JPEG" : fmt == V4L2_PIX_FMT_YUYV ? "YUYV 4:2:2" : "Y/UV 4:2:0");
    return 0;
  }
  case VIDIOC_ENUM_FRAMESIZES: {
    struct v4l2_frmsizeenum *s = arg;
    uint32_t w, h;
    if (!format_offered(s->pixel_format) || !size_at(s->pixel_format, s->index, &w, &h)) return EINVAL;
    s->type = V4L2_FRMSIZE_TYPE_DISCRETE;
    s->discrete.width = w;
    s->discrete.height = h;
    return 0;
  }
  case VIDIOC_ENUM_FRAMEINTERVALS: {
    struct v4l2_frmivalenum *v = arg;
    if (!format_offered(v->pixel_format) || !size_offered(v->pixel_format, v->width, v->height) || v->index >= 3)
      return EINVAL;
    v->type = V4L2_FRMIVAL_TYPE_DISCRETE;
    v->discrete.numerator = 1;
    v->discrete.denominator = fps_offered[v->index];
    return 0;
  }
  case VIDIOC_G_FMT:
  case VIDIOC_S_FMT:
  case VIDIOC_TRY_FMT: {
    struct v4l2_format *fm = arg;
    if (fm->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
    if (req != VIDIOC_G_FMT) {
      if (req == VIDIOC_S_FMT && (f->streaming || f->nbufs || (d->owner >= 0 && d->owner != f->fd))) return EBUSY;
      uint32_t fourcc = fm->fmt.pix.pixelformat, w = fm->fmt.pix.width, h = fm->fmt.pix.height;
      if (!format_offered(fourcc)) fourcc = formats[0];
      if (!size_offered(fourcc, w, h)) size_at(fourcc, 0, &w, &h); /* drivers adjust, never fail */
      ffd_t tmp = *f;
      set_geometry(&tmp, fourcc, w, h);
      if (req == VIDIOC_S_FMT) set_geometry(f, fourcc, w, h);
      fill_pix(&tmp, &fm->fmt.pix);
      return 0;
    }
    fill_pix(f, &fm->fmt.pix);
    return 0;
  }
  case VIDIOC_G_PARM:
  case VIDIOC_S_PARM: {
    struct v4l2_streamparm *p = arg;
    if (p->type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
    if (req == VIDIOC_S_PARM) {
      struct v4l2_fract t = p->parm.capture.timeperframe;
      double want = t.numerator ? (double)t.denominator / t.numerator : 30;
      uint32_t best = fps_offered[0];
      for (int i = 0; i < 3; i++) {
        double a = want - fps_offered[i], b = want - best;
        if ((a < 0 ? -a : a) < (b < 0 ? -b : b)) best = fps_offered[i];
      }
      f->tpf_num = 1;
      f->tpf_den = best;
      if (f->streaming) arm(f, (long)(1e9 / best), 1);
    }
    memset(&p->parm, 0, sizeof p->parm);
    p->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
    p->parm.capture.timeperframe.numerator = f->tpf_num;
    p->parm.capture.timeperframe.denominator = f->tpf_den;
    p->parm.capture.readbuffers = 0;
    return 0;
  }
  case VIDIOC_REQBUFS: {
    struct v4l2_requestbuffers *r = arg;
    if (r->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || r->memory != V4L2_MEMORY_MMAP) return EINVAL;
    if (f->streaming) return EBUSY;
    if (d->owner >= 0 && d->owner != f->fd) return EBUSY;
    free_buffers(f);
    if (r->count == 0) return 0;
    uint32_t n = r->count < 2 ? 2 : r->count > MAX_BUFS ? MAX_BUFS : r->count;
    long page = sysconf(_SC_PAGESIZE);
    f->span = (f->sizeimage + (size_t)page - 1) / (size_t)page * (size_t)page;
    for (uint32_t i = 0; i < n; i++) {
      int m = memfd_create("fake-v4l2-buffer", MFD_CLOEXEC);
      if (m < 0 || ftruncate(m, (off_t)f->span) != 0) {
        if (m >= 0) real_close(m);
        free_buffers(f);
        return ENOMEM;
      }
      f->memfd[f->nbufs++] = m;
    }
    f->scratch = malloc(f->sizeimage);
    d->owner = f->fd;
    r->count = n;
    return 0;
  }
  case VIDIOC_QUERYBUF:
  case VIDIOC_QBUF: {
    struct v4l2_buffer *b = arg;
    if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b->index >= (uint32_t)f->nbufs) return EINVAL;
    if (req == VIDIOC_QBUF) {
      if (b->memory != V4L2_MEMORY_MMAP || buffer_queued(f, (int)b->index)) return EINVAL;
      f->queued[(f->qhead + f->qcount) % MAX_BUFS] = (int)b->index;
      f->qcount++;
    }
    uint32_t index = b->index;
    memset(b, 0, sizeof *b);
    b->index = index;
    b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b->memory = V4L2_MEMORY_MMAP;
    b->length = f->sizeimage;
    b->m.offset = (uint32_t)(index * f->span);
    b->flags = V4L2_BUF_FLAG_MAPPED | (buffer_queued(f, (int)index) ? V4L2_BUF_FLAG_QUEUED : 0);
    return 0;
  }
  case VIDIOC_DQBUF: {
    struct v4l2_buffer *b = arg;
    if (b->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b->memory != V4L2_MEMORY_MMAP) return EINVAL;
    int r = do_dqbuf(f, b);
    while (r == EAGAIN && !f->nonblock && f->streaming && !f->pollerr) {
      struct pollfd p = {f->fd, POLLIN, 0};
      pthread_mutex_unlock(&lock);
      real_poll(&p, 1, 1000);
      pthread_mutex_lock(&lock);
      r = do_dqbuf(f, b);
    }
    return r == EAGAIN && f->pollerr && !f->nonblock ? EIO : r; /* a blocking wait on a failed queue */
  }
  case VIDIOC_STREAMON:
  case VIDIOC_STREAMOFF: {
    if (*(int *)arg != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
    if (req == VIDIOC_STREAMON) {
      if (!f->nbufs) return EINVAL;
      /* FAKE_V4L2_STALL_AFTER=0: a camera that streams but never delivers a frame. */
      int stalled = cfg.stall_after >= 0 && (long)f->served >= cfg.stall_after;
      if (!f->streaming && !stalled) arm(f, (long)(1e9 * f->tpf_num / f->tpf_den), 1);
      f->streaming = 1;
    } else {
      arm(f, -1, 0);
      uint64_t drain;
      (void)!read(f->fd, &drain, sizeof drain);
      f->streaming = 0;
      f->qhead = f->qcount = 0;
    }
    return 0;
  }
  case VIDIOC_QUERYCTRL: {
    struct v4l2_queryctrl *q = arg;
    uint32_t id = q->id & ~(V4L2_CTRL_FLAG_NEXT_CTRL | V4L2_CTRL_FLAG_NEXT_COMPOUND);
    const ctrl_t *c = NULL;
    for (size_t i = 0; i < NCTRLS && !c; i++)
      if ((q->id & V4L2_CTRL_FLAG_NEXT_CTRL) ? ctrls[i].id > id : ctrls[i].id == id) c = &ctrls[i];
    if (!c) return EINVAL;
    memset(q, 0, sizeof *q);
    q->id = c->id;
    q->type = c->type;
    snprintf((char *)q->name, sizeof q->name, "%s", c->name);
    q->minimum = c->min;
    q->maximum = c->max;
    q->step = c->step;
    q->default_value = c->dflt;
    q->flags = ctrl_inactive(d, c->id) ? V4L2_CTRL_FLAG_INACTIVE : 0;
    return 0;
  }
  case VIDIOC_QUERYMENU: {
    struct v4l2_querymenu *m = arg;
    const char *name = menu_name(m->id, m->index);
    if (!name) return EINVAL;
    snprintf((char *)m->name, sizeof m->name, "%s", name);
    return 0;
  }
  case VIDIOC_G_CTRL:
  case VIDIOC_S_CTRL: {
    struct v4l2_control *c = arg;
    int32_t *v = ctrl_value(d, c->id);
    if (!v) return EINVAL;
    if (req == VIDIOC_G_CTRL) {
      c->value = *v;
      return 0;
    }
    const ctrl_t *def = NULL;
    for (size_t i = 0; i < NCTRLS; i++)
      if (ctrls[i].id == c->id) def = &ctrls[i];
    if (ctrl_inactive(d, c->id)) return EACCES;
    if (c->value < def->min || c->value > def->max) return ERANGE;
    if (def->type == V4L2_CTRL_TYPE_MENU && !menu_name(c->id, (uint32_t)c->value)) return EINVAL;
    *v = c->value;
    return 0;
  }
  /* One camera input, as UVC drivers have: ffmpeg's v4l2 demuxer asks for it before S_FMT. */
  case VIDIOC_G_INPUT:
    *(int *)arg = 0;
    return 0;
  case VIDIOC_S_INPUT:
    return *(int *)arg == 0 ? 0 : EINVAL;
  case VIDIOC_ENUMINPUT: {
    struct v4l2_input *in = arg;
    if (in->index != 0) return EINVAL;
    memset(in, 0, sizeof *in);
    snprintf((char *)in->name, sizeof in->name, "Camera 1");
    in->type = V4L2_INPUT_TYPE_CAMERA;
    return 0;
  }
  default:
    return ENOTTY;
  }
}
