// fqpipe/fqpipe.hpp - the whole public API of fqpipe in one include.
// Start with Reader (single thread) or run()/for_each_batch() (many threads).
#pragma once

#include "fqpipe/batch.hpp"
#include "fqpipe/error.hpp"
#include "fqpipe/ordered.hpp"
#include "fqpipe/pipeline.hpp"
#include "fqpipe/reader.hpp"
#include "fqpipe/schema.hpp"
#include "fqpipe/stats.hpp"
