// Resource templates the message flow names things by: dialogs (DIALOG and
// DIALOGEX: controls with id, class, text, style), menus (MENU and MENUEX:
// command ids and captions), string tables and accelerator tables. Readers
// take the resource's bytes and never trust a count or an offset.
#pragma once
#include "switchboard/pe/PeImage.h"
#include "switchboard/support/Expected.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sb::res {

struct DialogControl {
  uint32_t id = 0;
  std::string className;   // "Button", "Edit", ... for the predefined ordinals
  std::string text;
  uint32_t style = 0;
};

struct Dialog {
  std::string name;        // the resource name ("101" or a string)
  uint32_t id = 0;         // when named by number
  bool extended = false;   // DIALOGEX
  uint32_t style = 0;
  std::string caption, className, font;
  std::vector<DialogControl> controls;
};

struct MenuItem {
  uint32_t id = 0;
  std::string text;
  bool popup = false;
  unsigned depth = 0;
};

struct Menu {
  std::string name;
  uint32_t id = 0;
  bool extended = false;
  std::vector<MenuItem> items;
};

struct StringEntry {
  uint32_t id = 0;
  std::string text;
};

struct Accelerator {
  uint16_t flags = 0, key = 0, id = 0;
};

Expected<Dialog> parseDialog(std::span<const uint8_t> bytes);
Expected<Menu> parseMenu(std::span<const uint8_t> bytes);
// A string table block: bundle N holds strings (N-1)*16 .. (N-1)*16+15.
std::vector<StringEntry> parseStringBundle(uint32_t bundleId, std::span<const uint8_t> bytes);
std::vector<Accelerator> parseAccelerators(std::span<const uint8_t> bytes);

struct Resources {
  std::vector<Dialog> dialogs;
  std::vector<Menu> menus;
  std::vector<StringEntry> strings;
  std::vector<Accelerator> accelerators;
  std::vector<std::string> warnings;

  const Dialog *dialog(uint32_t id) const;
  // The menu item or dialog control with this command id, as "menu \"&Open\"".
  std::string commandName(uint32_t id) const;
};

Resources readResources(const pe::PeImage &img);

} // namespace sb::res
