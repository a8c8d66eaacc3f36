// SPDX-License-Identifier: MIT OR Apache-2.0
// Everything in socketcap's core and session layer. Prefer the one-concern headers.
#ifndef SOCKETCAP_SOCKETCAP_HPP
#define SOCKETCAP_SOCKETCAP_HPP

#include <socketcap/io/capture_engine.hpp>
#include <socketcap/any_framer.hpp>
#include <socketcap/base64.hpp>
#include <socketcap/base64_codec.hpp>
#include <socketcap/checkpoint_policy.hpp>
#include <socketcap/chunk_framer.hpp>
#include <socketcap/codec.hpp>
#include <socketcap/io/connector.hpp>
#include <socketcap/io/deadline.hpp>
#include <socketcap/delimiter_framer.hpp>
#include <socketcap/diagnostics.hpp>
#include <socketcap/document.hpp>
#include <socketcap/error.hpp>
#include <socketcap/frame.hpp>
#include <socketcap/framer.hpp>
#include <socketcap/framing.hpp>
#include <socketcap/json_codec.hpp>
#include <socketcap/json_writer.hpp>
#include <socketcap/length_prefix_framer.hpp>
#include <socketcap/line_framer.hpp>
#include <socketcap/mllp_framer.hpp>
#include <socketcap/octet_counting_framer.hpp>
#include <socketcap/output_buffer.hpp>
#include <socketcap/pipeline.hpp>
#include <socketcap/io/read_file.hpp>
#include <socketcap/receive_buffer.hpp>
#include <socketcap/reconnect_policy.hpp>
#include <socketcap/io/session.hpp>
#include <socketcap/io/sink.hpp>
#include <socketcap/text_codec.hpp>
#include <socketcap/io/transport.hpp>
#include <socketcap/utf8.hpp>

#endif
