#include "spectrograms/thread_pool.hpp"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <exception>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace spectrograms {

namespace {

// One parallel_for call. Lives on the caller's stack; workers reach it through the pool's list
// and announce themselves in `helpers`, so the caller can wait until none is left inside.
struct Job {
    const std::function<void(std::int64_t)> *fn;
    std::int64_t n_tasks;
    int max_helpers;
    std::atomic<std::int64_t> next{0};
    std::int64_t finished = 0;  // guarded by m
    std::atomic<int> helpers{0};  // joined under the pool mutex, left under m
    std::atomic<bool> failed{false};
    std::exception_ptr error;   // guarded by m
    std::mutex m;
    std::condition_variable cv;

    // Runs tasks until none is left; returns how many this thread finished.
    void work() {
        std::int64_t done = 0;
        for (std::int64_t i; (i = next.fetch_add(1)) < n_tasks;) {
            if (!failed.load(std::memory_order_relaxed)) {
                try {
                    (*fn)(i);
                } catch (...) {
                    std::lock_guard<std::mutex> lock(m);
                    if (!error) error = std::current_exception();
                    failed = true;
                }
            }
            ++done;
        }
        if (done) {
            std::lock_guard<std::mutex> lock(m);
            finished += done;
            if (finished == n_tasks) cv.notify_all();
        }
    }
};

class Pool {
  public:
    Pool() : pid_(getpid()) {}
    // Never destroyed: worker threads outlive any static destructor order, and a forked child
    // abandons the parent's pool (its threads do not exist there).

    pid_t pid() const noexcept { return pid_; }

    void run(Job &job) {
        {
            std::lock_guard<std::mutex> lock(m_);
            while (static_cast<int>(workers_.size()) < job.max_helpers)
                workers_.emplace_back([this] { worker_loop(); });
            jobs_.push_back(&job);
        }
        cv_.notify_all();
        job.work();
        {
            std::lock_guard<std::mutex> lock(m_);
            jobs_.remove(&job);  // no new helper can join after this
        }
        std::unique_lock<std::mutex> lock(job.m);
        job.cv.wait(lock, [&] { return job.finished == job.n_tasks && job.helpers == 0; });
    }

    int size() {
        std::lock_guard<std::mutex> lock(m_);
        return static_cast<int>(workers_.size());
    }

  private:
    void worker_loop() {
        std::size_t turn = 0;
        for (;;) {
            Job *job = nullptr;
            {
                std::unique_lock<std::mutex> lock(m_);
                cv_.wait(lock, [&] { return (job = pick(turn++)) != nullptr; });
                ++job->helpers;
            }
            job->work();
            std::lock_guard<std::mutex> lock(job->m);
            --job->helpers;
            job->cv.notify_all();
        }
    }

    // Round-robin over the jobs that still have tasks and room for a helper, so two batches
    // running at once share the workers. Called with m_ held.
    Job *pick(std::size_t turn) {
        if (jobs_.empty()) return nullptr;
        const std::size_t n = jobs_.size();
        auto it = jobs_.begin();
        std::advance(it, static_cast<long>(turn % n));
        for (std::size_t i = 0; i < n; ++i) {
            Job *job = *it;
            if (job->next.load() < job->n_tasks && job->helpers < job->max_helpers) return job;
            if (++it == jobs_.end()) it = jobs_.begin();
        }
        return nullptr;
    }

    pid_t pid_;
    std::mutex m_;
    std::condition_variable cv_;
    std::list<Job *> jobs_;
    std::vector<std::thread> workers_;
};

std::mutex g_pool_mutex;
Pool *g_pool = nullptr;

void lock_pool_pointer() { g_pool_mutex.lock(); }
void unlock_pool_pointer() { g_pool_mutex.unlock(); }

Pool &pool() {
    static const int registered =
        pthread_atfork(lock_pool_pointer, unlock_pool_pointer, unlock_pool_pointer);
    (void)registered;
    std::lock_guard<std::mutex> lock(g_pool_mutex);
    if (!g_pool || g_pool->pid() != getpid()) g_pool = new Pool();  // the old one is abandoned
    return *g_pool;
}

}  // namespace

void parallel_for(std::int64_t n_tasks, int n_threads, const std::function<void(std::int64_t)> &fn) {
    if (n_tasks <= 0) return;
    if (n_threads <= 1 || n_tasks == 1) {
        for (std::int64_t i = 0; i < n_tasks; ++i) fn(i);
        return;
    }
    Job job;
    job.fn = &fn;
    job.n_tasks = n_tasks;
    job.max_helpers = static_cast<int>(std::min<std::int64_t>(n_threads - 1, n_tasks - 1));
    pool().run(job);
    if (job.error) std::rethrow_exception(job.error);
}

int pool_worker_count() noexcept {
    std::lock_guard<std::mutex> lock(g_pool_mutex);
    if (!g_pool || g_pool->pid() != getpid()) return 0;
    // size() takes the pool's own lock; never held together with g_pool_mutex elsewhere.
    return g_pool->size();
}

}  // namespace spectrograms
