// MJPEG frames from UVC cameras often omit the Huffman tables (DHT), relying on the
// standard ones of ITU-T T.81 Annex K; strict decoders refuse such frames. This restores them.
#pragma once
#include <cstddef>
#include <cstdint>

namespace v4l2 {

/** The size of the frame as WriteJpeg writes it: larger by the DHT segment when the frame is
 * a JPEG that reaches its scan without Huffman tables. */
size_t JpegOutputSize(const uint8_t* data, size_t size);

/** Copies the frame to `out` (JpegOutputSize bytes), with the Annex K tables inserted before
 * the scan where they are missing; returns whether they were inserted. Anything that is not a
 * well-formed JPEG header is copied unchanged (the consumer reports it as corrupt). */
bool WriteJpeg(const uint8_t* data, size_t size, uint8_t* out);

}  // namespace v4l2
