// Persistent, lazily started, fork-safe worker pool; parallel_for over independent tasks.
#pragma once
#include <cstdint>
#include <functional>

namespace spectrograms {

/// Runs fn(i) for i in [0, n_tasks) on up to n_threads threads (the caller is one of them) and
/// returns when all are done. The first exception thrown by any task is rethrown here, after
/// every task has finished or been skipped. Concurrent calls share the workers fairly.
/// n_threads <= 1 runs inline. Safe after fork(): a child process gets a pool of its own.
void parallel_for(std::int64_t n_tasks, int n_threads, const std::function<void(std::int64_t)> &fn);

/// Worker threads the pool has started in this process (0 until the first parallel call).
int pool_worker_count() noexcept;

}  // namespace spectrograms
