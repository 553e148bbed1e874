# bash completion for kcmptrace(1): options, the report and snapshot
# subcommands (process ids for snapshot), formats,
# files and directories, and the traced command's own completion after
# the command name.
_kcmptrace()
{
	# bash splits "--format=js" into "--format" "=" "js": join them again.
	local -a words=()
	local i word cur prev cword
	for ((i = 0; i <= COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if [[ $word == = ]] && ((${#words[@]} > 1)); then
			words[-1]+="="
		elif ((i > 0)) && [[ ${COMP_WORDS[i - 1]} == = && ${words[-1]} == -*= ]]; then
			words[-1]+=$word
		else
			words+=("$word")
		fi
	done
	cword=$((${#words[@]} - 1))
	cur=${words[cword]}
	prev=${words[cword - 1]}

	local opts='--format= --output= -o --trace-dir --wait= --stall= --on-deadlock= --no-watch --error-exitcode=
		--suppressions= --default-suppressions= --no-default-suppressions --leaks
		--report-close-minus-one --stack= --quiet --color= -h --help --version'
	local report=0 snapshot=0 command=0
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-o | --output | --trace-dir) ((i++)) ;;
		--) ((report || snapshot)) || command=$((i + 1)); break ;;
		report) ((snapshot)) || report=1 ;;
		snapshot) ((report)) || snapshot=1 ;;
		-*) ;;
		*) if ((!report && !snapshot)); then command=$i; break; fi ;;
		esac
	done
	# After the command's name: the command's own completion.
	if ((command > 0)); then
		if ((command == cword)); then
			COMPREPLY=($(compgen -c -- "$cur"))
		elif declare -F _command_offset >/dev/null; then
			_command_offset "$((command + COMP_CWORD - cword))"
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return
	fi

	case $prev in
	-o | --output)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--trace-dir)
		COMPREPLY=($(compgen -d -- "$cur")); return ;;
	esac
	case $cur in
	--format=*) COMPREPLY=($(compgen -W 'text json dot' -- "${cur#*=}")); return ;;
	--wait=*) COMPREPLY=($(compgen -W 'tree command' -- "${cur#*=}")); return ;;
	--on-deadlock=*) COMPREPLY=($(compgen -W 'wait kill' -- "${cur#*=}")); return ;;
	--color=*) COMPREPLY=($(compgen -W 'auto always never' -- "${cur#*=}")); return ;;
	--default-suppressions=*) COMPREPLY=($(compgen -W 'yes no' -- "${cur#*=}")); return ;;
	--output=* | --suppressions=*) COMPREPLY=($(compgen -f -- "${cur#*=}")); return ;;
	--trace-dir=*) COMPREPLY=($(compgen -d -- "${cur#*=}")); return ;;
	-*)
		if ((report || snapshot)); then
			opts=${opts//--trace-dir/}
			opts=${opts//--no-watch/}
			opts=${opts//--wait=/}
			opts=${opts//--stall=/}
			opts=${opts//--on-deadlock=/}
		fi
		((report)) && opts+=" --remove-if-done"
		((snapshot)) && opts+=" --tree"
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		# no space after an option that takes its value after '='
		if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
			compopt -o nospace 2>/dev/null
		fi
		return ;;
	esac
	if ((report)); then
		COMPREPLY=($(compgen -d -- "$cur"))
	elif ((snapshot)); then
		COMPREPLY=($(compgen -W "$(cd /proc && echo [0-9]*)" -- "$cur"))
	else
		COMPREPLY=($(compgen -W 'report snapshot' -- "$cur") $(compgen -c -- "$cur"))
	fi
}
complete -F _kcmptrace kcmptrace
