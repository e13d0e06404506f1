// indexing_text.cpp - IndexingText: build_index() runs on its own thread with an on_text hook
// that copies each decoded piece into a bounded queue; next() takes them in order.
#include "index/indexing_text.hpp"

#include "fqpipe/error.hpp"
#include "fqpipe/index.hpp"

namespace fqpipe::index {
namespace {

struct Cancelled {};  // thrown out of the hook when the consumer is gone
constexpr std::size_t kMaxWaiting = 4;

}  // namespace

IndexingText::IndexingText(std::string path, std::string index_path, uint64_t spacing)
    : path_(std::move(path)), index_path_(std::move(index_path)), spacing_(spacing),
      thread_([this] { decode(); }) {}

IndexingText::~IndexingText() {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void IndexingText::decode() {
  IndexBuildOptions options;
  options.spacing = spacing_;
  options.on_text = [this](uint64_t decoded_byte, std::span<const uint8_t> text) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return cancelled_ || ready_.size() < kMaxWaiting; });
    if (cancelled_) throw Cancelled{};
    Piece piece{decoded_byte, {}};
    if (!spare_.empty()) {
      piece.text = std::move(spare_.back());
      spare_.pop_back();
    }
    lock.unlock();
    piece.text.assign(text.begin(), text.end());
    lock.lock();
    ready_.push_back(std::move(piece));
    changed_.notify_all();
  };
  GzipIndex index;
  std::exception_ptr error;
  try {
    index = build_index(path_, options);
  } catch (const Cancelled&) {
    return;
  } catch (...) {
    error = std::current_exception();
  }
  std::unique_lock lock(mutex_);
  error_ = error;
  done_ = true;
  changed_.notify_all();
  if (error) return;
  // The index is written only once the consumer has read everything (it may still fail on a
  // FASTQ error before; then the destructor cancels and nothing is written).
  changed_.wait(lock, [&] { return cancelled_ || all_read_; });
  if (cancelled_ && !all_read_) return;
  lock.unlock();
  try {
    save_index(index, index_path_, IndexFormat::fqpipe);
  } catch (...) {
    lock.lock();
    error_ = std::current_exception();
    all_read_ = false;
    changed_.notify_all();
    return;
  }
  lock.lock();
  index_path_.clear();  // written: describe() says so
  changed_.notify_all();
}

const io::TextBuffer* IndexingText::next() {
  std::unique_lock lock(mutex_);
  if (!current_.text.empty()) spare_.push_back(std::move(current_.text));
  current_.text.clear();
  changed_.wait(lock, [&] { return !ready_.empty() || done_; });
  if (!ready_.empty()) {
    current_ = std::move(ready_.front());
    ready_.pop_front();
    changed_.notify_all();
    view_ = {current_.text.data(), current_.text.size(), current_.decoded_byte};
    return &view_;
  }
  if (error_) std::rethrow_exception(error_);
  // Everything was handed out: let the decoding thread write the index, and wait for it, so
  // that a failure to write is this run's error.
  all_read_ = true;
  changed_.notify_all();
  changed_.wait(lock, [&] { return index_path_.empty() || error_ != nullptr; });
  if (error_) std::rethrow_exception(error_);
  return nullptr;
}

std::string IndexingText::describe() const {
  return "building the index during the pass";
}

}  // namespace fqpipe::index
