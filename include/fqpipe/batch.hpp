// fqpipe/batch.hpp - FastqBatch, N records as structure of arrays, and FastqRecord, a view of one.
// One arena per field lets a consumer move a batch (to a GPU, to a file) with one copy per field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace fqpipe {

namespace detail {
/// A growable byte buffer that, unlike std::vector<char>, does not zero what it grows into:
/// a batch arena is overwritten at once, and zeroing would cost a second pass over the data.
class ByteArena {
 public:
  ByteArena() = default;
  ByteArena(const ByteArena& o) { append(o.data_.get(), o.size_); }
  ByteArena& operator=(const ByteArena& o) {
    if (this != &o) { size_ = 0; append(o.data_.get(), o.size_); }
    return *this;
  }
  ByteArena(ByteArena&&) noexcept = default;
  ByteArena& operator=(ByteArena&&) noexcept = default;

  const char* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  void clear() noexcept { size_ = 0; }
  void append(const char* bytes, std::size_t n) {
    if (size_ + n > capacity_) grow(size_ + n);
    if (n) std::memcpy(data_.get() + size_, bytes, n);
    size_ += n;
  }

 private:
  void grow(std::size_t need) {
    std::size_t cap = capacity_ ? capacity_ * 2 : 4096;
    while (cap < need) cap *= 2;
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (size_) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = cap;
  }

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};
}  // namespace detail

/// One FASTQ record: views into the FastqBatch that holds it. Valid while that batch is
/// neither cleared nor destroyed; within a pipeline consumer, until the consumer returns.
struct FastqRecord {
  std::string_view header;    ///< the header line after '@', comment included, no '\r'
  std::string_view sequence;  ///< the sequence line, no '\r'
  std::string_view quality;   ///< the quality line, same length as sequence, no '\r'
  uint64_t record_no;         ///< 1-based global number of the record in its input
  uint64_t decoded_byte;      ///< offset of its '@' in the decompressed input

  /// The read name: the header up to the first space or tab.
  std::string_view name() const noexcept {
    const std::size_t end = header.find_first_of(" \t");
    return end == std::string_view::npos ? header : header.substr(0, end);
  }
};

/// Records [first_record_no, first_record_no + size()) of one input, stored as structure of
/// arrays: three byte arenas (headers, sequences, qualities) with the end offset of every
/// record in each. Sequence and quality of a record have equal length, so they share one
/// offset array. Not thread-safe; a pipeline hands each batch to one consumer at a time.
class FastqBatch {
 public:
  /// Number of records held.
  std::size_t size() const noexcept { return decoded_bytes_.size(); }
  bool empty() const noexcept { return decoded_bytes_.empty(); }

  /// The i-th record (0 <= i < size()).
  FastqRecord operator[](std::size_t i) const noexcept {
    const uint32_t h0 = i ? header_ends_[i - 1] : 0;
    const uint32_t s0 = i ? seq_ends_[i - 1] : 0;
    return {std::string_view(headers_.data() + h0, header_ends_[i] - h0),
            std::string_view(sequences_.data() + s0, seq_ends_[i] - s0),
            std::string_view(qualities_.data() + s0, seq_ends_[i] - s0),
            first_record_no_ + i, decoded_bytes_[i]};
  }

  /// 1-based global number of the first record.
  uint64_t first_record_no() const noexcept { return first_record_no_; }

  /// The arenas: all headers, sequences and qualities back to back, without separators.
  std::string_view headers() const noexcept { return {headers_.data(), header_bytes()}; }
  std::string_view sequences() const noexcept { return {sequences_.data(), sequence_bytes()}; }
  std::string_view qualities() const noexcept { return {qualities_.data(), sequence_bytes()}; }
  /// End offsets into headers() and into sequences()/qualities(), one per record.
  const std::vector<uint32_t>& header_ends() const noexcept { return header_ends_; }
  const std::vector<uint32_t>& sequence_ends() const noexcept { return seq_ends_; }
  /// Decompressed byte offset of each record's '@'.
  const std::vector<uint64_t>& decoded_bytes() const noexcept { return decoded_bytes_; }

  /// Bytes of sequence (= bytes of quality) held.
  std::size_t sequence_bytes() const noexcept { return seq_ends_.empty() ? 0 : seq_ends_.back(); }
  std::size_t header_bytes() const noexcept { return header_ends_.empty() ? 0 : header_ends_.back(); }

  /// Empties the batch, keeping its memory, and sets the number of the next record appended.
  void clear(uint64_t first_record_no) noexcept {
    headers_.clear();
    sequences_.clear();
    qualities_.clear();
    header_ends_.clear();
    seq_ends_.clear();
    decoded_bytes_.clear();
    first_record_no_ = first_record_no;
  }

  /// Sets the global number of the first record, keeping the records: producers that parse
  /// ahead number their batches once the records before them are counted.
  void renumber(uint64_t first_record_no) noexcept { first_record_no_ = first_record_no; }

  /// Appends a record (copies its bytes). sequence and quality must have equal length.
  void append(std::string_view header, std::string_view sequence, std::string_view quality,
              uint64_t decoded_byte) {
    push_bytes(headers_, header);
    push_bytes(sequences_, sequence);
    push_bytes(qualities_, quality);
    header_ends_.push_back(static_cast<uint32_t>(headers_.size()));
    seq_ends_.push_back(static_cast<uint32_t>(sequences_.size()));
    decoded_bytes_.push_back(decoded_byte);
  }

  /// Iteration over the records, in order.
  class iterator {
   public:
    using value_type = FastqRecord;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const FastqBatch* b, std::size_t i) : batch_(b), i_(i) {}
    FastqRecord operator*() const noexcept { return (*batch_)[i_]; }
    iterator& operator++() noexcept { ++i_; return *this; }
    iterator operator++(int) noexcept { iterator t = *this; ++i_; return t; }
    bool operator==(const iterator& o) const noexcept { return i_ == o.i_; }

   private:
    const FastqBatch* batch_ = nullptr;
    std::size_t i_ = 0;
  };
  iterator begin() const noexcept { return {this, 0}; }
  iterator end() const noexcept { return {this, size()}; }

 private:
  static void push_bytes(detail::ByteArena& arena, std::string_view bytes) {
    arena.append(bytes.data(), bytes.size());
  }

  detail::ByteArena headers_, sequences_, qualities_;
  std::vector<uint32_t> header_ends_, seq_ends_;
  std::vector<uint64_t> decoded_bytes_;
  uint64_t first_record_no_ = 1;
};

}  // namespace fqpipe
