# install.sh -- shell helpers for the tests of the installed layout
# (sourced after testenv.sh, POSIX sh).
#
#   te_mkvar NAME           a directory variable (sbindir, unitdir...) as
#                           make expands it in the build tree
#   te_install STAGE LOG    make install DESTDIR=STAGE, output in LOG

te_mkvar()
{
	printf 'print-%%:\n\t@echo $($*)\n' |
		env -u MAKEFLAGS -u MFLAGS make -s --no-print-directory \
		-C "$top_builddir" -f Makefile -f - "print-$1"
}

te_install()
{
	make -C "$top_builddir" install DESTDIR="$1" >"$2" 2>&1
}
