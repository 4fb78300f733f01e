#pragma once
#include <string>

#include "store/query.h"

namespace hotline {

std::string render_query_text(const QueryResult& result);
std::string render_query_csv(const QueryResult& result);
std::string render_query_json(const QueryResult& result);

}  // namespace hotline
