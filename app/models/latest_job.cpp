#include "app/models/latest_job.h"

namespace parm::app {

LatestJob::LatestJob(QObject* parent) : QObject(parent) {
  pool_.setMaxThreadCount(1);
}

LatestJob::~LatestJob() {
  ++generation_;  // whatever is still queued is skipped
  pool_.waitForDone();
}

void LatestJob::cancel() {
  ++generation_;
  pending_ = false;
}

}  // namespace parm::app
