// VQA accuracy with the official answer normalisation (core/eval_metrics.h).

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>
#include <string_view>

#include "core/eval_metrics.h"

namespace capfilt::core::eval {
namespace {

constexpr std::string_view kPunctuation = ";/[]\"{}()=+\\_-><@`,?!";

bool has_comma_between_digits(const std::string& s) {
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    if (s[i] == ',' && std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      return true;
    }
  }
  return false;
}

std::string replace_all(std::string s, char from, const std::string& to) {
  std::string out;
  for (char c : s) {
    if (c == from) {
      out += to;
    } else {
      out += c;
    }
  }
  return out;
}

// vqaEval's processPunctuation: each mark is removed where it touches a space (or everywhere
// when the answer has a comma between digits), otherwise replaced by a space so it separates the
// words it joined; then every '.' not followed by a digit goes.
std::string strip_punctuation(const std::string& in) {
  const bool digits_comma = has_comma_between_digits(in);
  std::string out = in;
  for (char p : kPunctuation) {
    const bool touches_space = in.find(std::string(1, p) + " ") != std::string::npos ||
                               in.find(" " + std::string(1, p)) != std::string::npos;
    out = replace_all(out, p, touches_space || digits_comma ? "" : " ");
  }
  std::string result;
  for (size_t i = 0; i < out.size(); ++i) {
    const bool digit_next =
        i + 1 < out.size() && std::isdigit(static_cast<unsigned char>(out[i + 1]));
    if (out[i] == '.' && !digit_next) continue;
    result += out[i];
  }
  return result;
}

// clang-format off
const std::map<std::string, std::string>& number_words() {
  static const std::map<std::string, std::string> kMap = {
      {"none", "0"}, {"zero", "0"}, {"one", "1"}, {"two", "2"},   {"three", "3"}, {"four", "4"},
      {"five", "5"}, {"six", "6"},  {"seven", "7"}, {"eight", "8"}, {"nine", "9"},  {"ten", "10"}};
  return kMap;
}

// Contractions as annotators type them without the apostrophe, and their written form.
const std::map<std::string, std::string>& contractions() {
  static const std::map<std::string, std::string> kMap = {
      {"aint", "ain't"},       {"arent", "aren't"},     {"cant", "can't"},
      {"couldnt", "couldn't"}, {"couldve", "could've"}, {"didnt", "didn't"},
      {"doesnt", "doesn't"},   {"dont", "don't"},       {"hadnt", "hadn't"},
      {"hasnt", "hasn't"},     {"havent", "haven't"},   {"hed", "he'd"},
      {"hes", "he's"},         {"howd", "how'd"},       {"howll", "how'll"},
      {"hows", "how's"},       {"im", "i'm"},           {"ive", "i've"},
      {"isnt", "isn't"},       {"itd", "it'd"},         {"itll", "it'll"},
      {"lets", "let's"},       {"maam", "ma'am"},       {"mightnt", "mightn't"},
      {"mightve", "might've"}, {"mustnt", "mustn't"},   {"mustve", "must've"},
      {"neednt", "needn't"},   {"notve", "not've"},     {"oclock", "o'clock"},
      {"shant", "shan't"},     {"shed", "she'd"},       {"shes", "she's"},
      {"shouldnt", "shouldn't"}, {"shouldve", "should've"}, {"somebodys", "somebody's"},
      {"someones", "someone's"}, {"somethings", "something's"}, {"thats", "that's"},
      {"thered", "there'd"},   {"therere", "there're"}, {"theres", "there's"},
      {"theyd", "they'd"},     {"theyll", "they'll"},   {"theyre", "they're"},
      {"theyve", "they've"},   {"wasnt", "wasn't"},     {"wed", "we'd"},
      {"weve", "we've"},       {"werent", "weren't"},   {"whatll", "what'll"},
      {"whatre", "what're"},   {"whats", "what's"},     {"whatve", "what've"},
      {"whens", "when's"},     {"whered", "where'd"},   {"wheres", "where's"},
      {"whereve", "where've"}, {"whod", "who'd"},       {"wholl", "who'll"},
      {"whos", "who's"},       {"whove", "who've"},     {"whyll", "why'll"},
      {"whyre", "why're"},     {"whys", "why's"},       {"wont", "won't"},
      {"wouldnt", "wouldn't"}, {"wouldve", "would've"}, {"yall", "y'all"},
      {"youd", "you'd"},       {"youll", "you'll"},     {"youre", "you're"},
      {"youve", "you've"}};
  return kMap;
}
// clang-format on

// vqaEval's processDigitArticle: lower-case words, number words to digits, articles out,
// contractions given their apostrophe.
std::string digits_and_articles(const std::string& in) {
  std::istringstream words(in);
  std::string word, out;
  while (words >> word) {
    for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto it = number_words().find(word); it != number_words().end()) word = it->second;
    if (word == "a" || word == "an" || word == "the") continue;
    if (auto it = contractions().find(word); it != contractions().end()) word = it->second;
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

}  // namespace

std::string normalize_vqa_answer(const std::string& answer) {
  std::string s = answer;
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\t', ' ');
  const size_t begin = s.find_first_not_of(' ');
  const size_t end = s.find_last_not_of(' ');
  s = begin == std::string::npos ? std::string() : s.substr(begin, end - begin + 1);
  return digits_and_articles(strip_punctuation(s));
}

double vqa_accuracy(const std::string& answer, const std::vector<std::string>& annotator_answers) {
  if (annotator_answers.empty()) return 0;
  const std::string given = normalize_vqa_answer(answer);
  std::vector<bool> same;
  for (const auto& a : annotator_answers) same.push_back(normalize_vqa_answer(a) == given);
  if (same.size() == 1) return same[0] ? 1.0 : 0.0;
  const auto matching = static_cast<double>(std::count(same.begin(), same.end(), true));
  double sum = 0;
  for (bool left_out_matches : same) {
    sum += std::min(1.0, (matching - (left_out_matches ? 1 : 0)) / 3.0);
  }
  return sum / static_cast<double>(same.size());
}

}  // namespace capfilt::core::eval
