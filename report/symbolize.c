/* Symbolization of call sites with elfutils' libdwfl, offline: the module
 * file is opened from disk (it may be a different build than the one that
 * ran; nothing in the record lets us check). One Dwfl per module, cached. */
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uthash.h>

#include "util.h"

struct module_cache {
	char *path; /* key */
	Dwfl *dwfl; /* NULL when the module could not be opened */
	Dwfl_Module *module;
	GElf_Addr load_base; /* lowest PT_LOAD p_vaddr rounded down to the page */
	UT_hash_handle hh;
};

static struct module_cache *modules;

static char *debuginfo_path;
static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

static GElf_Addr lowest_load_address(Elf *elf)
{
	size_t nphdr;
	GElf_Addr lowest = (GElf_Addr)-1;
	if (elf_getphdrnum(elf, &nphdr) != 0)
		return 0;
	for (size_t i = 0; i < nphdr; i++) {
		GElf_Phdr mem, *ph = gelf_getphdr(elf, (int)i, &mem);
		if (ph != NULL && ph->p_type == PT_LOAD && ph->p_vaddr < lowest)
			lowest = ph->p_vaddr;
	}
	if (lowest == (GElf_Addr)-1)
		return 0;
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	return lowest & ~((GElf_Addr)page - 1);
}

static struct module_cache *open_module(const char *path)
{
	struct module_cache *mc;
	HASH_FIND_STR(modules, path, mc);
	if (mc != NULL)
		return mc;
	mc = kt_xcalloc(1, sizeof *mc);
	mc->path = kt_xstrdup(path);
	HASH_ADD_KEYPTR(hh, modules, mc->path, strlen(mc->path), mc);

	/* A module path is whatever the trace says: never block on a FIFO. */
	int fd = kt_open_regular(path, 0);
	if (fd < 0)
		return mc;
	Dwfl *dwfl = dwfl_begin(&offline_callbacks);
	if (dwfl == NULL) {
		close(fd);
		return mc;
	}
	dwfl_report_begin(dwfl);
	/* Consumes fd on success; on failure fd may stay open: harmless here,
	 * where a double close would not be. */
	Dwfl_Module *mod = dwfl_report_offline(dwfl, kt_basename(path), path, fd);
	dwfl_report_end(dwfl, NULL, NULL);
	GElf_Addr bias;
	Elf *elf = mod != NULL ? dwfl_module_getelf(mod, &bias) : NULL;
	if (elf == NULL) {
		dwfl_end(dwfl);
		return mc;
	}
	mc->dwfl = dwfl;
	mc->module = mod;
	mc->load_base = lowest_load_address(elf);
	return mc;
}

/* Split "MODULE+0xOFF" at the last "+0x". */
static int parse_site(const char *site, char *module, size_t modlen, uint64_t *offset)
{
	const char *plus = NULL;
	for (const char *p = site; (p = strstr(p, "+0x")) != NULL; p++)
		plus = p;
	if (plus == NULL || plus == site || (size_t)(plus - site) >= modlen)
		return -1;
	char *end;
	unsigned long long v = strtoull(plus + 3, &end, 16);
	if (end == plus + 3 || *end != '\0')
		return -1;
	memcpy(module, site, (size_t)(plus - site));
	module[plus - site] = '\0';
	*offset = v;
	return 0;
}

/* Sites seen, with what they resolved to: a report names the same few
 * call sites many times. */
struct site_cache {
	char *site; /* key */
	struct kt_symbol sym;
	bool ok;
	UT_hash_handle hh;
};

static struct site_cache *sites;

static bool resolve(const char *site, struct kt_symbol *sym);

/* A system header's inline function (glibc's _FORTIFY_SOURCE read, open,
 * recv wrappers) is not where the program made the call: the line it was
 * inlined at is, as in a build without _FORTIFY_SOURCE. */
static bool system_header(const char *file)
{
	return strncmp(file, "/usr/include/", 13) == 0;
}

/* The file and line where inlined subroutine die was inlined, or false. */
static bool call_site_of(Dwarf_Die *cu, Dwarf_Die *die, const char **file, int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word idx, l;
	Dwarf_Files *files;
	size_t nfiles;
	if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &idx) != 0 ||
	    dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &l) != 0 || l == 0 ||
	    dwarf_getsrcfiles(cu, &files, &nfiles) != 0 || idx >= nfiles)
		return false;
	const char *f = dwarf_filesrc(files, idx, NULL, NULL);
	if (f == NULL)
		return false;
	*file = f;
	*line = (int)l;
	return true;
}

/* The innermost function inlined at addr, by its name in the debug
 * information, or NULL: then the ELF symbol is the function. *file and
 * *line, addr's source line, move out of system headers' inline functions
 * to where they were inlined. */
static const char *inlined_at(Dwfl_Module *module, GElf_Addr addr, const char **file, int *line)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(module, addr, &bias);
	Dwarf_Die *scopes = NULL;
	int n = cu != NULL ? dwarf_getscopes(cu, addr - bias, &scopes) : 0;
	const char *name = NULL;
	for (int i = 0; i < n && name == NULL; i++) {
		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		if (system_header(*file) && call_site_of(cu, &scopes[i], file, line))
			continue;
		Dwarf_Attribute attr;
		name = dwarf_formstring(dwarf_attr_integrate(&scopes[i], DW_AT_name, &attr));
	}
	free(scopes);
	return name;
}

bool kt_symbolize_full(const char *site, struct kt_symbol *sym)
{
	struct site_cache *sc;
	HASH_FIND_STR(sites, site, sc);
	if (sc == NULL) {
		sc = kt_xcalloc(1, sizeof *sc);
		sc->site = kt_xstrdup(site);
		sc->ok = resolve(site, &sc->sym);
		HASH_ADD_KEYPTR(hh, sites, sc->site, strlen(sc->site), sc);
	}
	*sym = sc->sym;
	return sc->ok;
}

static bool resolve(const char *site, struct kt_symbol *sym)
{
	char module[4096];
	uint64_t offset;
	sym->file[0] = '\0';
	sym->line = 0;
	if (parse_site(site, module, sizeof module, &offset) != 0) {
		snprintf(sym->site, sizeof sym->site, "%s", site);
		snprintf(sym->where, sizeof sym->where, "%s", site);
		return false;
	}
	const char *base = kt_basename(module);
	struct module_cache *mc = open_module(module);
	snprintf(sym->site, sizeof sym->site, "%s+0x%" PRIx64, base, offset);
	if (mc->module != NULL) {
		GElf_Addr bias;
		if (dwfl_module_getelf(mc->module, &bias) != NULL) {
			/* record.h: link-time address = OFFSET + page-rounded lowest
			 * PT_LOAD vaddr; dwfl addresses add the module's bias. */
			GElf_Addr addr = offset + mc->load_base + bias;
			GElf_Off symoff;
			GElf_Sym gsym;
			const char *name = dwfl_module_addrinfo(mc->module, addr, &symoff, &gsym,
								NULL, NULL, NULL);
			if (name != NULL && *name != '\0')
				snprintf(sym->site, sizeof sym->site, "%s+0x%" PRIx64 " (%s)", name,
					 (uint64_t)symoff, base);
			Dwfl_Line *line = dwfl_module_getsrc(mc->module, addr);
			int lineno = 0;
			const char *file =
				line != NULL ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
			if (file != NULL && lineno > 0) {
				/* file:line belong to the inlined function, when there is
				 * one: name it, and the function it was inlined in. */
				const char *inl = inlined_at(mc->module, addr, &file, &lineno);
				snprintf(sym->file, sizeof sym->file, "%s", file);
				sym->line = lineno;
				if (inl != NULL && name != NULL && *name != '\0')
					snprintf(sym->where, sizeof sym->where,
						 "%s (%s:%d) in %s+0x%" PRIx64, inl, kt_basename(file),
						 lineno, name, (uint64_t)symoff);
				else if (name != NULL && *name != '\0')
					snprintf(sym->where, sizeof sym->where, "%s+0x%" PRIx64 " (%s:%d)",
						 name, (uint64_t)symoff, kt_basename(file), lineno);
				else
					snprintf(sym->where, sizeof sym->where, "%s+0x%" PRIx64 " (%s:%d)",
						 base, offset, kt_basename(file), lineno);
				return true;
			}
		}
	}
	snprintf(sym->where, sizeof sym->where, "%s", sym->site);
	return true;
}

const char *kt_symbolize(const char *site, char *out, size_t outlen)
{
	struct kt_symbol sym;
	kt_symbolize_full(site, &sym);
	snprintf(out, outlen, "%s", sym.site);
	return out;
}

void kt_symbolize_reset(void)
{
	struct site_cache *sc, *stmp;
	HASH_ITER(hh, sites, sc, stmp)
	{
		HASH_DEL(sites, sc);
		free(sc->site);
		free(sc);
	}
	struct module_cache *mc, *tmp;
	HASH_ITER(hh, modules, mc, tmp)
	{
		HASH_DEL(modules, mc);
		if (mc->dwfl != NULL)
			dwfl_end(mc->dwfl);
		free(mc->path);
		free(mc);
	}
}
