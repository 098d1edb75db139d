#pragma once
// The HTML of the complaint pages (pure functions like pages.h, every value escaped): the
// public form anyone may fill in without JavaScript, the receipt with the complaint's id,
// deadline and secret, the complainant's status page, and the administrators' list with
// overdue complaints flagged and the forms that answer them.
#include <string>

#include "lightvault/hub/web/pages.h"

namespace lv::hub::web {

// What the form shows again after a refusal.
struct ComplaintFormValues {
  std::string subject, text, contact;
};

// `form_token` is the double-submit token (cookie = hidden field) that protects the form
// for visitors without a session.
std::string complaint_form_page(const Frame& frame, const Repo& repo, const std::string& form_token,
                                const ComplaintFormValues& values);
std::string complaint_receipt_page(const Frame& frame, const ComplaintReceipt& receipt);
std::string complaint_status_page(const Frame& frame, const Complaint& complaint, int64_t now);
std::string complaints_page(const Frame& frame, const ComplaintsView& view);

}  // namespace lv::hub::web
