#pragma once
// Near-miss negative captions for ITM training. BLIP's ITM negatives are other captions of the
// batch, chosen where ITC finds them similar; a caption that is right but for one word, or right
// and then followed by text the image does not show, is seldom among them, so a filter trained that
// way passes a wrong colour or a caption padded with other text. These rewrites give the ITM head
// such pairs to reject. They use only the batch's own captions: no word list of any dataset.

#include <cstddef>
#include <random>
#include <string>
#include <vector>

namespace capfilt::core {

// A rewrite of captions[i] that no longer describes its image, drawn with `rng`:
// - half of the time, one word swapped for a word that follows the same word in another caption
//   of the batch, so the rewrite stays well-formed ("a red circle" becomes "a blue circle" when
//   another caption has "a blue");
// - otherwise, and when no such swap exists, another caption of the batch appended to it.
// The rewrite always differs from every caption in `same_image` (the captions of captions[i]'s
// image, captions[i] included) compared word for word, lower case; when no rewrite can (a batch of
// one caption text), the caption's words in reverse order, or "" for a single word.
std::string text_negative(const std::vector<std::string>& captions, std::size_t i,
                          const std::vector<std::string>& same_image, std::mt19937& rng);

}  // namespace capfilt::core
